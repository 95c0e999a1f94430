#include "detection/train_validation.h"

#include "detection/predictor.h"
#include "metrics/evaluate.h"

namespace cvtk::detection {

Validation validate(const ModelInfo& info, const vision::StateDict& weights, const data::Dataset& val, int batch,
                    int threads, torch::Device device) {
  auto model = inference_model(info, info.inference, weights, device);
  PredictOptions po;
  po.inference = info.inference;
  po.batch = batch;
  po.threads = threads;
  auto dets = predict_dataset(model, val, po);
  Validation v;
  v.map50 = metrics::evaluate(val, dets, metrics::voc_protocol()).headline();
  v.voc07 = metrics::evaluate(val, dets, metrics::voc07_protocol()).headline();
  auto coco = metrics::evaluate(val, dets, metrics::coco_protocol());
  v.coco_ap = coco.headline();
  if (auto* s = coco.find("AP50")) v.coco_ap50 = s->value;
  return v;
}

}  // namespace cvtk::detection
