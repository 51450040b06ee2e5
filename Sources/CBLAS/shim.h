// One small module between the tensor core and BLAS.
// Linux: OpenBLAS from Debian's libopenblas-dev. macOS: Accelerate (see Package.swift).
#if defined(__APPLE__)
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif
