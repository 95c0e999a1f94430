// Anchors the cvtk_augment target while it is being written.
namespace cvtk::augment {
const char* library_name() { return "cvtk_augment"; }
}  // namespace cvtk::augment
