package dev.verity.core.crypto;

import dev.verity.core.Base32;
import dev.verity.core.DecodingException;
import dev.verity.core.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
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
 * Written atomically and durably (temp file, fsync, link), never over an existing file. Reading
 * refuses a file that anyone but its owner can access (IOException), and anything that is not
 * exactly these three lines, or whose secret does not derive its public key (DecodingException).
 */
public final class KeyFile {
  private static final String HEADER = "verity-key v1";
  /** Far above the ~140 bytes of a real key file. */
  private static final int MAX_SIZE = 4096;
  private static final Set<PosixFilePermission> OWNER_ONLY =
      Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

  private KeyFile() {}

  /**
   * Writes {@code key} to a new file readable and writable only by its owner.
   *
   * @throws FileAlreadyExistsException if {@code file} exists: keys are never overwritten, not even
   *     when another process creates the file at the same moment
   */
  public static void write(Path file, Signer key) throws IOException {
    byte[] seed = key.seed().reveal();
    String text =
        HEADER + "\npublic " + key.publicKey() + "\nsecret " + Base32.encode(seed) + "\n";
    java.util.Arrays.fill(seed, (byte) 0);
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    try {
      AtomicFiles.writeNew(file, bytes, OWNER_ONLY);
    } catch (FileAlreadyExistsException e) {
      throw new FileAlreadyExistsException(
          file.toString(),
          null,
          "refusing to overwrite an existing key file; move it away or choose another path");
    } finally {
      java.util.Arrays.fill(bytes, (byte) 0);
    }
  }

  /**
   * Reads a key written by {@link #write}.
   *
   * @throws IOException if the file cannot be read or is accessible by group or others
   * @throws DecodingException if the file is not a well-formed key file of at most 4096 bytes, or
   *     its public key is not the one its secret derives
   */
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
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(MAX_SIZE + 1);
    }
    String text;
    try {
      if (bytes.length > MAX_SIZE) {
        throw new DecodingException("key file " + file + " is too large to be a Verity key");
      }
      text =
          StandardCharsets.US_ASCII
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw new DecodingException("key file " + file + " is not ASCII text", e);
    } finally {
      java.util.Arrays.fill(bytes, (byte) 0);
    }
    List<String> lines = text.lines().toList();
    if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
      throw new DecodingException("key file " + file + " is not a '" + HEADER + "' file");
    }
    if (lines.size() != 3) {
      throw new DecodingException(
          "key file " + file + " has " + lines.size() + " lines, not 3; it is corrupt");
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
