#pragma once
// Why a detector loses AP: TIDE's error breakdown (Bolya et al., ECCV 2020), a class confusion matrix,
// and precision / recall / F1 against the score threshold. Numbers for the evaluation report; nothing
// here prints or draws.
//
// Frames and units. Boxes are continuous pixel x1, y1, x2, y2 in original image coordinates
// (annotation.h); IoU is intersection over union of those boxes with no "+1". AP and every ΔAP are
// fractions in [0, 1] (TIDE prints them x100). Scores are compared as given, never rescaled.
//
// Ignored ground truth. Crowd (COCO) and difficult (VOC) objects are ignored: they are not positives,
// and a detection they absorb is neither a true nor a false positive and is not an error. A detection
// is absorbed when, after failing to match any counted object of its class, its IoU with an ignored
// object of its class reaches the foreground IoU (crowd regions: intersection over the detection's
// area, as COCOeval; difficult objects: plain IoU). An ignored object may absorb any number of
// detections. The error rules below look at counted objects only: an image whose objects are all
// ignored has "no ground truth".
//
// Input checks (as metrics::evaluate, with its messages): two ground-truth images with one id, an
// object label out of range, and a detection on an unknown image id, with a label out of range, a
// non-finite score or box, or x2 < x1 or y2 < y1 throw std::invalid_argument; detection messages
// name the detection's index in the input vector. Options out of range throw too.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "vision/data/annotation.h"

namespace cvtk::metrics {

// In TIDE's display order. The order in which a false positive is tested is a different one (below).
enum class ErrorType { kClassification, kLocalization, kBoth, kDuplicate, kBackground, kMissed };
constexpr size_t kErrorTypes = 6;
// "Cls", "Loc", "Both", "Dupe", "Bkg", "Miss", as TIDE labels them.
const char* error_type_name(ErrorType type);

struct ErrorOptions {
  double foreground_iou = 0.5;  // t_f: a match needs IoU >= t_f (capped at 1 - 1e-10, as COCOeval)
  double background_iou = 0.1;  // t_b: at or below it a box overlaps nothing; 0 <= t_b <= t_f <= 1, t_f > 0
  // Per image across classes, highest scores first (ties in input order), as TIDE; 0 keeps all. COCOeval
  // caps per image per class instead, so the baseline AP equals its AP50 only when no image has more.
  int max_detections = 100;
};

// analyze_errors(), step by step.
//
// 1. Matching, per class and image, exactly COCOeval's at IoU t_f: detections in descending score
//    (ties in input order) each take the counted, still unmatched object of their class with the highest
//    IoU >= t_f (of equal IoUs the later object, as COCOeval's walk), else are absorbed by an ignored
//    object (above), else are false positives. The baseline AP is therefore COCOeval's AP50 for t_f = 0.5
//    (area range "all" is not applied: it only matters for boxes over 1e10 px^2).
// 2. Each false positive gets the first type whose rule holds, in TIDE's order. IoUs are with counted
//    objects; "best" is the highest IoU, the first object of the image on ties.
//      Bkg   the image has no counted object;
//      Loc   its best IoU with an object of its class is in [t_b, t_f) (that object is its target);
//      Cls   its best IoU with an object of another class is >= t_f (target);
//      Dupe  an object of its class matched in step 1 has IoU >= t_f with it (target: the best such);
//      Bkg   its best IoU with any object is <= t_b;
//      Both  otherwise (wrong class and a poor box).
//    Miss: a counted object matched in step 1 by nothing and the target of no Loc or Cls error.
//    Counts per class: detection errors under the detection's label, Miss under the object's label.
// 3. ΔAP of a type: the mean AP after fixing every error of that type and nothing else, minus the
//    baseline, clamped at 0. Each fix changes one data point of the baseline's ranking and never rematches
//    the others (TIDE's way, so fixes of one type cannot interact through the matching):
//      Loc   becomes a true positive of its class on its target, with its score, if the target is
//            unmatched and this is the highest-ranked Loc error on it; otherwise it is removed;
//      Cls   likewise, relabelled to the target's class (a Cls error on a matched object is removed);
//      Dupe, Bkg, Both  removed;
//      Miss  the object leaves the positives of its class.
//    Where tidecv differs: it lets Loc and Cls errors compete for one target (the highest score of
//    either wins, so fixing Loc alone may not recover an object a higher Cls error points at); here
//    each type competes only with itself. tidecv also types detections absorbed by crowds; here they
//    are not errors.
//    Special oracles: FalsePos removes every false positive; FalseNeg removes every object unmatched in
//    step 1 from the positives (perfect recall, detections unchanged), as tidecv does.
// 4. AP of a class: COCOeval's 101-point interpolated precision at recall 0:0.01:1 (precision
//    tp / (tp + fp + 2^-52)), ranking by descending score with ties in ascending image id, then input
//    order. The mean is over the classes with at least one counted object; a class whose fix leaves no
//    positives scores 0 (as tidecv). Classes without counted objects have AP -1 and no ΔAP; their false
//    positives are still typed and counted.
struct ClassErrors {
  std::string name;
  int label = 0;
  size_t gt = 0, ignored_gt = 0;  // counted and ignored objects
  size_t detections = 0;          // true and false positives (not absorbed, within max_detections)
  size_t true_positives = 0;
  std::array<size_t, kErrorTypes> errors{};  // indexed by ErrorType
  double ap = -1;                            // baseline; -1 without counted objects
  std::array<double, kErrorTypes> delta_ap{};
  double delta_ap_false_positives = 0, delta_ap_false_negatives = 0;
};

// What became of one input detection.
enum class Outcome : uint8_t { kTruePositive, kError, kIgnored, kOverMaxDetections };
struct DetectionOutcome {
  Outcome outcome = Outcome::kOverMaxDetections;
  ErrorType error = ErrorType::kBackground;  // when outcome is kError
  uint32_t image = 0;                        // index into Dataset::images
  // Index into that image's objects: true positive: the object matched; Loc, Cls, Dupe: the target;
  // kIgnored: the ignored object that absorbed it; otherwise -1.
  int32_t object = -1;
};

struct ErrorBreakdown {
  ErrorOptions options;
  double ap = -1;  // baseline mean AP at t_f; -1 when no class has counted objects
  std::array<size_t, kErrorTypes> errors{};
  std::array<double, kErrorTypes> delta_ap{};
  double delta_ap_false_positives = 0, delta_ap_false_negatives = 0;
  size_t detections = 0;  // input detections
  size_t over_max_detections = 0, ignored_detections = 0, true_positives = 0;
  std::vector<ClassErrors> classes;        // every class of the dataset, in label order
  std::vector<DetectionOutcome> outcomes;  // one per input detection, in input order
  // (image index, object index) of every Miss, in ascending image id, then object order.
  std::vector<std::pair<uint32_t, uint32_t>> missed;

  size_t count(ErrorType t) const { return errors[static_cast<size_t>(t)]; }
  double delta(ErrorType t) const { return delta_ap[static_cast<size_t>(t)]; }
};

ErrorBreakdown analyze_errors(const data::Dataset& ground_truth, const std::vector<data::Detection>& detections,
                              const ErrorOptions& options = {});

// Precision, recall and F1 of one class against the score threshold, on the ranked detections that step 1
// of analyze_errors matches (IoU t_f, max_detections per image); absorbed detections take no part.
// One point per distinct score, descending: keeping the detections with score >= score[i] gives
// true_positives[i] and false_positives[i]; precision = tp / (tp + fp), recall = tp / gt (0 without
// ground truth), f1 = 2 tp / (tp + fp + gt). With t_f = 0.5 and no image over max_detections, the
// point of highest F1 (the first on ties) is ClassReport's COCO best-F1 operating point.
struct ScoreCurve {
  std::string name;
  int label = 0;
  size_t gt = 0;  // counted objects
  std::vector<double> score, precision, recall, f1;
  std::vector<size_t> true_positives, false_positives;
};
// One curve per class of the dataset, in label order.
std::vector<ScoreCurve> score_curves(const data::Dataset& ground_truth, const std::vector<data::Detection>& detections,
                                     const ErrorOptions& options = {});

struct ConfusionOptions {
  double score_threshold = 0.5;  // detections with score >= it take part, all of them (no cap)
  double iou_threshold = 0.5;    // an assignment needs IoU >= it
};

// A class-agnostic assignment, image by image. The image's detections with score >= score_threshold, in
// descending score (ties in input order), each take the counted object of ANY class, not yet taken, with
// the highest IoU >= iou_threshold (the first object on equal IoUs): one count in (object's class,
// detection's class), so a correct detection lands on the diagonal. A detection that takes none is
// dropped (ignored_detections) when an ignored object of any class has IoU >= iou_threshold with it (crowd:
// intersection over detection area), else counts in (spurious, detection's class). Every counted object left untaken
// counts in (object's class, missed). Ignored objects never appear in the matrix.
struct ConfusionMatrix {
  ConfusionOptions options;
  std::vector<std::string> classes;  // K names; row and column k < K is label k
  // (K + 1) x (K + 1): rows are the ground-truth class, row K "spurious" (detections that took no object);
  // columns are the predicted class, column K "missed" (objects no detection took). [K][K] is always 0.
  std::vector<std::vector<size_t>> counts;
  std::vector<std::vector<double>> normalized;  // each row divided by its sum; an empty row stays 0
  size_t ignored_detections = 0;
  size_t below_score_threshold = 0;

  size_t spurious_row() const { return classes.size(); }
  size_t missed_column() const { return classes.size(); }
};

ConfusionMatrix confusion_matrix(const data::Dataset& ground_truth, const std::vector<data::Detection>& detections,
                                 const ConfusionOptions& options = {});

}  // namespace cvtk::metrics
