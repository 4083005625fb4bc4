package dev.verity.core.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.verity.core.DecodingException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeyFileTest {
  @TempDir Path dir;

  @BeforeEach
  void needsPosixPermissions() {
    assumeTrue(
        dir.getFileSystem().supportedFileAttributeViews().contains("posix"),
        "key files rely on POSIX permissions");
  }

  private Path keyPath() {
    return dir.resolve("node.key");
  }

  /** Writes raw content with owner-only permissions, so only the content is under test. */
  private Path ownerOnlyFile(byte[] content) throws IOException {
    Path p = dir.resolve("crafted.key");
    Files.write(p, content);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
    return p;
  }

  private List<Path> filesInDir() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }

  @Test
  void readsBackTheKeyItWrote() throws IOException {
    Signer key = Signer.generate();
    KeyFile.write(keyPath(), key);
    Signer read = KeyFile.read(keyPath());
    assertEquals(key.publicKey(), read.publicKey());
    byte[] msg = "receipt".getBytes(StandardCharsets.UTF_8);
    assertArrayEquals(key.sign(msg), read.sign(msg), "the same seed gives the same signatures");
  }

  @Test
  void writesAnOwnerOnlyFileAndNoTemporaryFiles() throws IOException {
    KeyFile.write(keyPath(), Signer.generate());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyPath())));
    assertEquals(List.of(keyPath()), filesInDir());
    List<String> lines = Files.readAllLines(keyPath(), StandardCharsets.US_ASCII);
    assertEquals(3, lines.size());
    assertEquals("verity-key v1", lines.get(0));
  }

  @Test
  void neverOverwritesAnExistingFile() throws IOException {
    KeyFile.write(keyPath(), Signer.generate());
    byte[] before = Files.readAllBytes(keyPath());
    FileAlreadyExistsException e =
        assertThrows(FileAlreadyExistsException.class, () -> KeyFile.write(keyPath(), Signer.generate()));
    assertTrue(e.getMessage().contains("refusing to overwrite"), e.getMessage());
    assertArrayEquals(before, Files.readAllBytes(keyPath()));
    assertEquals(List.of(keyPath()), filesInDir());

    Path other = dir.resolve("notes.txt");
    Files.writeString(other, "not a key");
    assertThrows(FileAlreadyExistsException.class, () -> KeyFile.write(other, Signer.generate()));
    assertEquals("not a key", Files.readString(other));
  }

  @ParameterizedTest
  @ValueSource(strings = {"rw-r-----", "rw----r--", "rw-rw----", "rw-----w-", "rw-r--r--", "rwx---r-x"})
  void refusesFilesOthersCanAccess(String permissions) throws IOException {
    KeyFile.write(keyPath(), Signer.generate());
    Files.setPosixFilePermissions(keyPath(), PosixFilePermissions.fromString(permissions));
    IOException e = assertThrows(IOException.class, () -> KeyFile.read(keyPath()));
    assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
  }

  @Test
  void refusesAPublicKeyThatTheSecretDoesNotDerive() throws IOException {
    KeyFile.write(keyPath(), Signer.generate());
    List<String> lines = Files.readAllLines(keyPath(), StandardCharsets.US_ASCII);
    String swapped =
        lines.get(0) + "\npublic " + Signer.generate().publicKey() + "\n" + lines.get(2) + "\n";
    Path p = ownerOnlyFile(swapped.getBytes(StandardCharsets.US_ASCII));
    DecodingException e = assertThrows(DecodingException.class, () -> KeyFile.read(p));
    assertTrue(e.getMessage().contains("does not belong"), e.getMessage());
  }

  @Test
  void refusesEveryTruncation() throws IOException {
    KeyFile.write(keyPath(), Signer.generate());
    byte[] valid = Files.readAllBytes(keyPath());
    // Dropping only the final newline leaves the same three lines; anything shorter is corrupt.
    for (int n = 0; n < valid.length - 1; n++) {
      Path p = ownerOnlyFile(java.util.Arrays.copyOf(valid, n));
      assertThrows(DecodingException.class, () -> KeyFile.read(p), "truncated to " + n + " bytes");
      Files.delete(p);
    }
  }

  @Test
  void refusesMalformedContent() throws IOException {
    KeyFile.write(keyPath(), Signer.generate());
    String valid = Files.readString(keyPath(), StandardCharsets.US_ASCII);
    String[] l = valid.split("\n");
    String[] corrupt = {
      "",
      "verity-key v2\n" + l[1] + "\n" + l[2] + "\n",
      l[1] + "\n" + l[2] + "\n",
      valid + "extra line\n",
      valid + "\n",
      l[0] + "\n" + l[2] + "\n" + l[1] + "\n",
      l[0] + "\n" + l[1].replace("public ", "pub ") + "\n" + l[2] + "\n",
      l[0] + "\n" + l[1] + "\n" + l[2].toUpperCase() + "\n",
      l[0] + "\n" + l[1] + "\n" + l[2] + "aa\n",
      l[0] + "\n" + l[1] + "\nsecret \n",
      l[0] + "\n" + l[1].substring(0, l[1].length() - 1) + "\n" + l[2] + "\n",
    };
    for (String c : corrupt) {
      Path p = ownerOnlyFile(c.getBytes(StandardCharsets.US_ASCII));
      assertThrows(DecodingException.class, () -> KeyFile.read(p), c);
      Files.delete(p);
    }
    byte[] nonAscii = (valid.replace("verity-key", "vérity-key")).getBytes(StandardCharsets.UTF_8);
    Path p = ownerOnlyFile(nonAscii);
    assertThrows(DecodingException.class, () -> KeyFile.read(p));
  }

  @Test
  void refusesOversizeAndRandomFiles() throws IOException {
    KeyFile.write(keyPath(), Signer.generate());
    String valid = Files.readString(keyPath(), StandardCharsets.US_ASCII);
    Path big = ownerOnlyFile((valid + " ".repeat(5000)).getBytes(StandardCharsets.US_ASCII));
    DecodingException e = assertThrows(DecodingException.class, () -> KeyFile.read(big));
    assertTrue(e.getMessage().contains("too large"), e.getMessage());
    Files.delete(big);

    Random random = new Random(7);
    for (int i = 0; i < 50; i++) {
      byte[] junk = new byte[random.nextInt(300)];
      random.nextBytes(junk);
      Path p = ownerOnlyFile(junk);
      assertThrows(DecodingException.class, () -> KeyFile.read(p));
      Files.delete(p);
    }
  }

  @Test
  void reportsAMissingFileAsAnIoError() {
    assertThrows(IOException.class, () -> KeyFile.read(dir.resolve("absent.key")));
  }
}
