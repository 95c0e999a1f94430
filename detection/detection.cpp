// Anchors the cvtk_detection target while it is being written.
namespace cvtk::detection {
const char* library_name() { return "cvtk_detection"; }
}  // namespace cvtk::detection
