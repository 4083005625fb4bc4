package dev.verity.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  @TempDir Path dir;

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static List<String> names(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private boolean posix() {
    return dir.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  @Test
  void writesAndReplacesLeavingNoTemporaryFile() throws IOException {
    Path target = dir.resolve("manifest.cbor");
    AtomicFiles.write(target, bytes("first"));
    assertArrayEquals(bytes("first"), Files.readAllBytes(target));
    AtomicFiles.write(target, bytes("second, longer"));
    assertArrayEquals(bytes("second, longer"), Files.readAllBytes(target));
    AtomicFiles.write(target, new byte[0]);
    assertEquals(0, Files.size(target));
    assertEquals(List.of("manifest.cbor"), names(dir));
  }

  @Test
  void createsMissingParentDirectories() throws IOException {
    Path target = dir.resolve("a/b/c/blob");
    AtomicFiles.write(target, bytes("x"));
    assertArrayEquals(bytes("x"), Files.readAllBytes(target));
    assertEquals(List.of("blob"), names(target.getParent()));
  }

  @Test
  void leavesNoTemporaryFileWhenTheRenameFails() throws IOException {
    Path target = dir.resolve("occupied");
    Files.createDirectory(target);
    Files.writeString(target.resolve("inside"), "keep");
    assertThrows(IOException.class, () -> AtomicFiles.write(target, bytes("data")));
    assertEquals(List.of("occupied"), names(dir));
    assertEquals("keep", Files.readString(target.resolve("inside")));
  }

  @Test
  void appliesPermissionsWhenAsked() throws IOException {
    assumeTrue(posix());
    Path target = dir.resolve("secret");
    AtomicFiles.write(target, bytes("s"), OWNER_ONLY);
    assertEquals(OWNER_ONLY, Files.getPosixFilePermissions(target));
  }

  @Test
  void writeNewCreatesTheFileWithItsPermissions() throws IOException {
    Path target = dir.resolve("new.key");
    AtomicFiles.writeNew(target, bytes("key"), posix() ? OWNER_ONLY : null);
    assertArrayEquals(bytes("key"), Files.readAllBytes(target));
    if (posix()) {
      assertEquals(OWNER_ONLY, Files.getPosixFilePermissions(target));
    }
    assertEquals(List.of("new.key"), names(dir));
  }

  @Test
  void writeNewNeverReplacesAndLeavesNoTemporaryFile() throws IOException {
    Path target = dir.resolve("taken");
    Files.writeString(target, "original");
    assertThrows(FileAlreadyExistsException.class, () -> AtomicFiles.writeNew(target, bytes("new"), null));
    assertEquals("original", Files.readString(target));
    Path dangling = dir.resolve("dangling");
    Files.createSymbolicLink(dangling, dir.resolve("nowhere"));
    assertThrows(FileAlreadyExistsException.class, () -> AtomicFiles.writeNew(dangling, bytes("new"), null));
    assertTrue(Files.notExists(dir.resolve("nowhere")), "must not write through a link");
    assertEquals(List.of("dangling", "taken"), names(dir));
  }
}
