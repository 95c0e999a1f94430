#pragma once
// Ctrl-C during training: while a guard lives, SIGINT only raises a flag the step loop reads between
// steps (the run then writes last.pt and returns); the previous handler comes back however the scope
// is left, by return or by exception. One guard at a time.
namespace cvtk::detection {

class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  // SIGINT arrived since the guard was made.
  static bool requested();

 private:
  void (*previous_)(int);
};

}  // namespace cvtk::detection
