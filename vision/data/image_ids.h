#pragma once
// Image ids for datasets whose format has none (VOC, YOLO, a directory of loose images).
//
// The rule: an image's id is a pure function of its name (ImageRecord::name: the VOC id, the YOLO
// file stem, or for loose images the path relative to the source directory without its extension,
// with '/' separators). It does not depend on the split, the order of the images or the other
// images, so the same image has the same id in every split, in predictions, in `cvtk eval
// --save-dets` results and in the COCO json that `cvtk data convert --to coco` writes.
//
//   - A name made only of the ASCII digits 0-9 whose value is below 2^52 has that value as its id
//     (VOC2007's "000005" -> 5, as other VOC-to-COCO converters number them).
//   - Any other name gets 2^52 + (64-bit FNV-1a of the name's bytes, UTF-8, mod 2^52).
//
// Every id is therefore in [0, 2^53) and exactly representable as a JSON double, and a name-derived
// id of a non-numeric name is never a small number, so results carrying another file's small ids
// (1..N in some COCO json) cannot silently match images by position. Two images of one dataset
// with the same id ("5" and "05", or a hash collision) are an error naming both.
//
// COCO datasets keep the ids in their file; this rule is never applied to them.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "vision/data/dataset_io.h"

namespace cvtk::data {

// Ids of non-numeric names start here; numeric names have ids below it.
constexpr int64_t kHashedImageIdBase = int64_t(1) << 52;

// The id of an image named `name` (see the rule above).
int64_t image_id_for_name(std::string_view name);

// The name of a loose image file given by its path relative to the source directory: the path
// without its extension, '/'-separated ("day1/cam2/0001.jpg" -> "day1/cam2/0001").
std::string loose_image_name(const std::filesystem::path& relative_file);

// Sets every image's id from its name and marks the dataset's ids as name-derived
// (Dataset::ids_from_names). Two images with the same id: a FormatError naming the dataset and both
// images, or, when issues is given, an Issue ("duplicate_id") and the second image is dropped.
void assign_image_ids(Dataset& dataset, std::vector<Issue>* issues = nullptr);

}  // namespace cvtk::data
