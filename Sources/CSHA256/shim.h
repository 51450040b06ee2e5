// SHA-256 from the system: OpenSSL's libcrypto on Linux (Debian: libssl-dev),
// CommonCrypto on macOS.
#if defined(__APPLE__)
#include <CommonCrypto/CommonDigest.h>
#else
#include <openssl/sha.h>
#endif
