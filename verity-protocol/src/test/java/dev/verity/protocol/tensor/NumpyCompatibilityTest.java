package dev.verity.protocol.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Verity's .npy/.npz codec against files written by NumPy itself (see
 * src/test/resources/numpy/make_numpy_vectors.py): Verity reads what NumPy writes, and writes
 * .npy files byte-identical to NumPy's.
 */
class NumpyCompatibilityTest {

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = NumpyCompatibilityTest.class.getResourceAsStream("/numpy/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource numpy/" + name);
      }
      return in.readAllBytes();
    }
  }

  private static Tensor read(String name) throws IOException {
    return Npy.read(new ByteArrayInputStream(resource(name)), name, TensorLimits.DEFAULT);
  }

  /** Reads the NumPy file, compares it with the expected tensor, and writes it back byte for byte. */
  private static void assertNumpyFile(String name, Tensor expected) throws IOException {
    Tensor t = read(name);
    assertEquals(expected, t, name);
    assertArrayEquals(resource(name), Npy.toBytes(t), "Verity's .npy of " + name + " differs from NumPy's");
  }

  private static byte[] littleEndian(int bytesPerElement, long... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * bytesPerElement).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      switch (bytesPerElement) {
        case 1 -> b.put((byte) v);
        case 2 -> b.putShort((short) v);
        default -> throw new IllegalArgumentException();
      }
    }
    return b.array();
  }

  @Test
  void readsAndWritesFloat32WithEdgeValuesLikeNumpy() throws IOException {
    assertNumpyFile("float32_2x3.npy",
        Tensor.ofFloats(new long[] {2, 3}, new float[] {0.5f, -1.25f, Float.MIN_VALUE, Float.NaN, Float.POSITIVE_INFINITY, -0.0f}));
  }

  @Test
  void readsAndWritesScalarsLikeNumpy() throws IOException {
    assertNumpyFile("float64_scalar.npy", Tensor.ofDoubles(new long[0], new double[] {-2.5e-308}));
  }

  @Test
  void readsAndWritesEveryIntegerTypeLikeNumpy() throws IOException {
    assertNumpyFile("int64_1d.npy", Tensor.ofLongs(new long[] {4}, new long[] {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE}));
    assertNumpyFile("int32_2x2.npy",
        Tensor.ofInts(new long[] {2, 2}, new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, 7, -7}));
    assertNumpyFile("int16_1d.npy",
        Tensor.ofBytes(ElementType.INT16, new long[] {3}, littleEndian(2, Short.MIN_VALUE, Short.MAX_VALUE, 0)));
    assertNumpyFile("int8_1d.npy", Tensor.ofBytes(ElementType.INT8, new long[] {4}, littleEndian(1, -128, 127, 0, -1)));
    assertNumpyFile("uint8_2x2.npy", Tensor.ofBytes(ElementType.UINT8, new long[] {2, 2}, littleEndian(1, 0, 255, 128, 1)));
  }

  @Test
  void readsAndWritesBoolAndEmptyArraysLikeNumpy() throws IOException {
    assertNumpyFile("bool_1x3.npy", Tensor.ofBools(new long[] {1, 3}, new boolean[] {true, false, true}));
    assertNumpyFile("empty_0x3.npy", Tensor.ofFloats(new long[] {0, 3}, new float[0]));
  }

  @Test
  void readsVersion2Headers() throws IOException {
    assertEquals(Tensor.ofFloats(new long[] {2, 3}, new float[] {0, 1, 2, 3, 4, 5}), read("float32_v2_header.npy"));
  }

  @Test
  void refusesNumpysBigEndianAndFortranOrderFiles() {
    assertThrows(DecodingException.class, () -> read("bigendian_f4.npy"));
    DecodingException e = assertThrows(DecodingException.class, () -> read("fortran_2x3.npy"));
    assertTrue(e.getMessage().contains("Fortran"), e.getMessage());
  }

  @Test
  void readsNpzArchivesStoredAndDeflatedByNumpy() throws IOException {
    NamedTensors expected = NamedTensors.of(Map.of(
        "x", Tensor.ofFloats(new long[] {2, 3}, new float[] {0, 1, 2, 3, 4, 5}),
        "mask", Tensor.ofBools(new long[] {2}, new boolean[] {true, false})));
    for (String name : new String[] {"pair.npz", "pair_compressed.npz"}) {
      NamedTensors t = Npy.readNpz(new ByteArrayInputStream(resource(name)), TensorLimits.DEFAULT);
      assertEquals(Set.of("x", "mask"), t.names(), name);
      assertEquals(expected, t, name);
      assertEquals(expected.cid(), t.cid(), name);
    }
  }

  @Test
  void writesNpzEntriesStoredUncompressedAsNumpySavezDoes() throws IOException {
    NamedTensors tensors = NamedTensors.of(Map.of(
        "x", Tensor.ofFloats(new long[] {2, 3}, new float[] {0, 1, 2, 3, 4, 5}),
        "mask", Tensor.ofBools(new long[] {2}, new boolean[] {true, false})));
    byte[] npz = Npy.toNpz(tensors);
    int entries = 0;
    try (java.util.zip.ZipInputStream zip = new java.util.zip.ZipInputStream(new ByteArrayInputStream(npz))) {
      for (java.util.zip.ZipEntry e; (e = zip.getNextEntry()) != null; entries++) {
        assertEquals(java.util.zip.ZipEntry.STORED, e.getMethod(), e.getName());
        String name = e.getName().substring(0, e.getName().length() - ".npy".length());
        byte[] npy = Npy.toBytes(tensors.get(name));
        assertEquals(npy.length, e.getSize(), e.getName());
        assertArrayEquals(npy, zip.readAllBytes(), e.getName());
      }
    }
    assertEquals(2, entries);
  }

  @Test
  void writesAZipWhoseCentralDirectoryAgreesWithItsEntries(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws IOException {
    NamedTensors tensors = NamedTensors.of(Map.of(
        "x", Tensor.ofFloats(new long[] {2, 3}, new float[] {0, 1, 2, 3, 4, 5}),
        "mask", Tensor.ofBools(new long[] {2}, new boolean[] {true, false}),
        "é名", Tensor.ofLongs(new long[] {}, new long[] {42})));
    java.nio.file.Path file = dir.resolve("t.npz");
    java.nio.file.Files.write(file, Npy.toNpz(tensors));
    // ZipFile reads the central directory (as NumPy's np.load does), ZipInputStream the local headers
    try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(file.toFile())) {
      assertEquals(Set.of("x.npy", "mask.npy", "é名.npy"),
          zip.stream().map(java.util.zip.ZipEntry::getName).collect(java.util.stream.Collectors.toSet()));
      for (String name : tensors.names()) {
        java.util.zip.ZipEntry e = zip.getEntry(name + ".npy");
        assertEquals(java.util.zip.ZipEntry.STORED, e.getMethod());
        try (InputStream in = zip.getInputStream(e)) {
          assertArrayEquals(Npy.toBytes(tensors.get(name)), in.readAllBytes(), name);
        }
      }
    }
    assertEquals(tensors, Npy.readNpz(java.nio.file.Files.newInputStream(file), TensorLimits.DEFAULT));
  }

  @Test
  void prefersNpzForLargeNumericSetsOnly() {
    long n = Npy.BINARY_ABOVE_BYTES / 4;
    assertTrue(!Npy.prefersBinary(NamedTensors.of("x", Tensor.ofFloats(new long[] {n}, new float[(int) n]))),
        "exactly at the threshold stays JSON");
    assertTrue(Npy.prefersBinary(NamedTensors.of("x", Tensor.ofFloats(new long[] {n + 1}, new float[(int) n + 1]))));
    java.util.List<String> words = java.util.Collections.nCopies((int) Npy.BINARY_ABOVE_BYTES, "word");
    NamedTensors withText = NamedTensors.of(Map.of(
        "x", Tensor.ofFloats(new long[] {n + 1}, new float[(int) n + 1]),
        "s", Tensor.ofStrings(new long[] {words.size()}, words)));
    assertTrue(!Npy.canWrite(withText) && !Npy.prefersBinary(withText), "strings have no .npy form: JSON");
  }

  @Test
  void writingAnNpzLeavesTheCallersStreamOpen() throws IOException {
    NamedTensors tensors = NamedTensors.of("x", Tensor.ofFloats(new long[] {2}, new float[] {1, 2}));
    boolean[] closed = {false};
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream() {
      @Override
      public void close() {
        closed[0] = true;
      }
    };
    Npy.writeNpz(tensors, out);
    assertTrue(!closed[0], "the caller's stream was closed");
    assertEquals(tensors, Npy.readNpz(new ByteArrayInputStream(out.toByteArray()), TensorLimits.DEFAULT));
  }
}
