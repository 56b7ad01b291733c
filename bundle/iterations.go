package bundle

// The KDF iteration counts of every .pfx certmint writes (issue, batch,
// renew, safeq, convert --to pfx): the MAC key and both encryptions (the
// certificate bags and the key bag) each derive their key with this many
// iterations.
//
// Legacy files (3DES, SHA-1 MAC) are for macOS Keychain and Windows before
// 1709 (002: `security import ... -f pkcs12`). go-pkcs12's LegacyDES derives
// the MAC key with 1 iteration, which makes a guess at the password cost
// one hash; certmint uses 2,048 for all three, what `openssl pkcs12 -export
// -legacy` writes (OpenSSL's PKCS12_DEFAULT_ITER), so the files are the
// ones those importers have read from OpenSSL for two decades.
//
// Modern files (AES-256-CBC with PBKDF2-HMAC-SHA256, SHA-256 MAC) use
// 10,000: what Java's keytool writes (keystore.pkcs12.*IterationCount in
// java.security) and NIST SP 800-63B's "typically at least 10,000
// iterations" for PBKDF2, five times OpenSSL 3's 2,048, and far inside
// every reader's limit on each of the three counts:
//   - Windows 10's own import refuses counts above 600,000 ("PFX operation
//     failed as Iteration count doesn't lie in expected range. Maximum
//     permissible value: 600000", event log quoted in
//     https://github.com/hwdsl2/setup-ipsec-vpn/issues/414);
//   - .NET's PKCS#12 loader (Pkcs12LoaderLimits, dotnet/runtime) refuses a
//     MAC or KDF count above 300,000, or above 1,000,000 for a whole file;
//   - keytool (JDK 17, measured) refuses counts above 5,000,000 ("cert PBE
//     iteration count too large");
//   - OpenSSL 3.0.19 (measured) reads any count.
//
// Why not more: measured on this project's 2-core machine, a modern .pfx
// takes 1 ms to write at 2,048, 5 ms at 10,000 and 45 ms at 100,000, and
// as much again to read; at 100,000 a batch of ECDSA bundles ran 4 to 8
// times slower (BenchmarkIssueBatch) for about 3 bits of guessing work. A
// .pfx is only as strong as its password: certmint warns below 8
// characters and --random-password(s) gives 24. `openssl pkcs12 -info`
// takes 0.01 s and `keytool -list` 0.37 s (mostly the JVM) at 10,000.
const (
	LegacyPFXIterations = 2048
	ModernPFXIterations = 10_000
)
