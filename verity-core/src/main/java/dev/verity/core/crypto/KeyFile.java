package dev.verity.core.crypto;

import dev.verity.core.Base32;
import dev.verity.core.DecodingException;
import dev.verity.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;

/**
 * Stores a {@link Signer} as a small text file readable only by its owner:
 *
 * <pre>
 * verity-key v1
 * public ed25519:&lt;base32 public key&gt;
 * secret &lt;base32 32-byte seed&gt;
 * </pre>
 *
 * Written atomically (temp file, fsync, rename). Reading refuses a file that others can read, and a
 * file whose secret does not derive its public key.
 */
public final class KeyFile {
  private static final String HEADER = "verity-key v1";
  private static final Set<PosixFilePermission> OWNER_ONLY =
      Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

  private KeyFile() {}

  /** Writes {@code key} to {@code file}; fails if the file exists (keys are never overwritten). */
  public static void write(Path file, Signer key) throws IOException {
    if (Files.exists(file)) {
      throw new IOException("refusing to overwrite existing key file " + file);
    }
    byte[] seed = key.seed().reveal();
    String text =
        HEADER + "\npublic " + key.publicKey() + "\nsecret " + Base32.encode(seed) + "\n";
    java.util.Arrays.fill(seed, (byte) 0);
    AtomicFiles.write(file, text.getBytes(StandardCharsets.US_ASCII), OWNER_ONLY);
  }

  public static Signer read(Path file) throws IOException {
    if (supportsPosix(file)) {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      for (PosixFilePermission p : perms) {
        if (!OWNER_ONLY.contains(p) && p != PosixFilePermission.OWNER_EXECUTE) {
          throw new IOException(
              "key file " + file + " is accessible by others (" + p + "); run: chmod 600 " + file);
        }
      }
    }
    if (Files.size(file) > 4096) {
      throw new DecodingException("key file " + file + " is too large to be a Verity key");
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
    if (lines.size() < 3 || !lines.get(0).equals(HEADER)) {
      throw new DecodingException("key file " + file + " is not a '" + HEADER + "' file");
    }
    if (!lines.get(1).startsWith("public ") || !lines.get(2).startsWith("secret ")) {
      throw new DecodingException("key file " + file + " is malformed");
    }
    PublicKey pub = PublicKey.parse(lines.get(1).substring("public ".length()).trim());
    byte[] seed = Base32.decode(lines.get(2).substring("secret ".length()).trim());
    try {
      return Signer.fromSeed(seed, pub);
    } finally {
      java.util.Arrays.fill(seed, (byte) 0);
    }
  }

  private static boolean supportsPosix(Path file) {
    return file.getFileSystem().supportedFileAttributeViews().contains("posix");
  }
}
