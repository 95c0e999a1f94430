// Anchors the cvtk_metrics target while it is being written.
namespace cvtk::metrics {
const char* library_name() { return "cvtk_metrics"; }
}  // namespace cvtk::metrics
