#pragma once
// The annotation model every part of cvtk shares.
//
// Coordinates: a Box is x1, y1, x2, y2 in continuous pixel coordinates of its image, with the
// COCO convention x2 = x + w (a box covering exactly pixel column 0 has x1 = 0, x2 = 1).
// File formats are converted at their reader/writer and nowhere else (see voc.h, coco.h, yolo.h).
//
// Class ids: a Dataset owns an ordered list of class names; an Object's label is a 0-based index into
// it. Background, where a model needs it, is the model's business.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cvtk::data {

struct Box {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;

  double width() const { return x2 - x1; }
  double height() const { return y2 - y1; }
  // Zero for degenerate boxes, never negative.
  double area() const { return (x2 > x1 && y2 > y1) ? (x2 - x1) * (y2 - y1) : 0.0; }
  bool degenerate() const { return !(x2 > x1 && y2 > y1); }
  bool inside(double image_width, double image_height) const {
    return x1 >= 0 && y1 >= 0 && x2 <= image_width && y2 <= image_height;
  }
  friend bool operator==(const Box& a, const Box& b) {
    return a.x1 == b.x1 && a.y1 == b.y1 && a.x2 == b.x2 && a.y2 == b.y2;
  }
};

// Intersection over union of two boxes in continuous coordinates (no "+1").
double iou(const Box& a, const Box& b);

struct Object {
  Box box;
  int label = 0;           // index into Dataset::classes
  bool difficult = false;  // VOC: ignored by the VOC protocols
  bool crowd = false;      // COCO iscrowd: a region, ignored by the COCO protocol
  // The annotation's own area in square pixels (COCO's `area`, a segmentation area); negative when the
  // file did not give one, in which case effective_area() is the box area.
  double area = -1;
  int64_t id = 0;  // annotation id when the format has one (COCO), else its 1-based position

  double effective_area() const { return area >= 0 ? area : box.area(); }
};

struct ImageRecord {
  // COCO: the image id in the file. VOC, YOLO, loose images: derived from name alone, never from the
  // position (vision/data/image_ids.h), so it is the same in every split and in converted files.
  int64_t id = 0;
  std::string name;  // the image's key: VOC id / file stem; unique within a dataset
  std::string file;  // image path relative to Dataset::image_root
  int width = 0;     // pixels
  int height = 0;
  std::vector<Object> objects;
};

struct Dataset {
  std::vector<std::string> classes;  // label k is classes[k]
  // COCO category id of each class (same length as classes), kept so writers can map back.
  // Empty for datasets read from formats without category ids; writers then use label + 1.
  std::vector<int64_t> category_ids;
  std::vector<ImageRecord> images;
  std::filesystem::path image_root;  // ImageRecord::file is relative to this
  std::string split;                 // the split that was read ("" for all)
  std::string source;                // the file or directory it was read from, for messages
  size_t clipped_boxes = 0;          // boxes clipped to their image at read (ReadOptions::clip_boxes)
  // True when ImageRecord::id was derived from the names (image_ids.h) rather than read from the file;
  // detection readers then explain that integer ids from elsewhere do not refer to these images.
  bool ids_from_names = false;

  size_t object_count() const;
  // Category id written for a label (category_ids[label] or label + 1).
  int64_t category_id(int label) const;
  // Index of a class name, -1 when unknown.
  int class_index(const std::string& name) const;
};

// One scored box predicted for an image. The box is in original image coordinates.
struct Detection {
  int64_t image_id = 0;  // ImageRecord::id of the ground truth it refers to
  int label = 0;         // index into the ground truth's Dataset::classes
  double score = 0;
  Box box;
};

}  // namespace cvtk::data
