#pragma once
// The text of one VOC annotation file, shared by the VOC writer and the synthetic dataset generator.
#include <string>

#include "vision/data/annotation.h"

namespace cvtk::data {

// Boxes are written as VOC 1-based inclusive indices (xmin = x1 + 1, xmax = x2), with the shortest
// decimal text that reads back exactly (integers for integral boxes).
std::string voc_annotation_xml(const Dataset& dataset, const ImageRecord& record, const std::string& filename);

}  // namespace cvtk::data
