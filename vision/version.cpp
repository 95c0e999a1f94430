// Anchors the cvtk_vision target while parts of it are still being written.
namespace cvtk::vision {
const char* library_name() { return "cvtk_vision"; }
}  // namespace cvtk::vision
