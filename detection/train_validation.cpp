#include "detection/train_validation.h"

#include "detection/distributed/gather_detections.h"
#include "detection/distributed/sharded_sampler.h"
#include "detection/predictor.h"
#include "metrics/evaluate.h"

namespace cvtk::detection {

Validation validate(const ModelInfo& info, const vision::StateDict& weights, const data::Dataset& val, int batch,
                    int threads, torch::Device device, distributed::ProcessGroup* group,
                    std::vector<data::Detection>* detections) {
  auto model = inference_model(info, info.inference, weights, device);
  PredictOptions po;
  po.inference = info.inference;
  po.batch = batch;
  po.threads = threads;
  std::vector<data::Detection> dets;
  if (group && group->size() > 1) {
    const auto positions = distributed::validation_shard(val.images.size(), batch, group->rank(), group->size());
    data::Dataset shard = val;
    shard.images.clear();
    for (size_t p : positions) shard.images.push_back(val.images[p]);
    const auto mine = shard.images.empty() ? std::vector<data::Detection>{} : predict_dataset(model, shard, po);
    dets = distributed::gather_detections(*group, val, positions, mine);
    if (group->rank() != 0) return {};
  } else {
    dets = predict_dataset(model, val, po);
  }
  Validation v;
  v.map50 = metrics::evaluate(val, dets, metrics::voc_protocol()).headline();
  v.voc07 = metrics::evaluate(val, dets, metrics::voc07_protocol()).headline();
  auto coco = metrics::evaluate(val, dets, metrics::coco_protocol());
  v.coco_ap = coco.headline();
  if (auto* s = coco.find("AP50")) v.coco_ap50 = s->value;
  if (detections) *detections = std::move(dets);
  return v;
}

}  // namespace cvtk::detection
