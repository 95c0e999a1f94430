#pragma once
// cvtk is two programs: `cvtk`, which users run, is built without LibTorch and runs the commands that
// need no model (data, synth, report, eval on a detections file) itself; every other command line (train,
// predict, eval --weights, classify, models, augment, and --help or anything it does not know) is
// handed to `cvtk-models`, which has every command, by replacing the process with it (execv): the same
// arguments, the same process id, so output, signals (Ctrl-C during training) and exit codes are the
// model program's own. Loading LibTorch costs about 0.5 s and 160 MB, which evaluation never pays.
//
// cvtk-models is found from the running executable (/proc/self/exe): beside it (the build tree), or
// at the installed layout's relative path from the bin directory to libexec/cvtk.

namespace cvtk::apps {

// The arguments main() was given, kept for handing the command line over.
void keep_command_line(char** argv);

// Replaces the process with cvtk-models on the kept command line. Returns only on failure, with
// exit code 2 after printing "cvtk: error: ..." naming the program that could not be started.
int hand_over_to_models();

}  // namespace cvtk::apps
