// LibTorch 1.13 keeps its warning handler per thread (c10's
// ThreadWarningHandler, despite its header calling it global): every thread
// that runs LibTorch code installs ours, or warnings bypass the log through
// glog, once per forward.
#pragma once

namespace edgeserve::hal {

void InstallTorchWarningHandler();

}  // namespace edgeserve::hal
