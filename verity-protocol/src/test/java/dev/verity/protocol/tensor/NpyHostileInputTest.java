package dev.verity.protocol.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Hostile .npy and .npz input is refused with a DecodingException, before any large allocation. */
class NpyHostileInputTest {
  private static final TensorLimits SMALL = new TensorLimits(3, 1000, 4096);
  /** Limits that let a header claim gigabytes, so only the reader's own care prevents allocation. */
  private static final TensorLimits HUGE = new TensorLimits(4, Integer.MAX_VALUE, Long.MAX_VALUE);

  /** A version 1.0 .npy header around a dictionary, padded as NumPy pads it. */
  static byte[] npy(String dict, byte[] data) {
    int unpadded = 6 + 2 + 2 + dict.length() + 1;
    String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    out.write(header.length() & 0xff);
    out.write(header.length() >>> 8);
    out.writeBytes(header.getBytes(StandardCharsets.ISO_8859_1));
    out.writeBytes(data);
    return out.toByteArray();
  }

  static byte[] npy(String descr, String shape, byte[] data) {
    return npy("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }", data);
  }

  private static DecodingException rejectedNpy(byte[] bytes, TensorLimits limits) {
    return assertThrows(DecodingException.class,
        () -> Npy.read(new ByteArrayInputStream(bytes), "t", limits));
  }

  private static DecodingException rejectedNpz(byte[] bytes, TensorLimits limits) {
    return assertThrows(DecodingException.class, () -> Npy.readNpz(new ByteArrayInputStream(bytes), limits));
  }

  /** A zip with the given entries, deflated at the given level. */
  static byte[] zip(int level, Map<String, byte[]> entries) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out)) {
      z.setLevel(level);
      for (var e : entries.entrySet()) {
        z.putNextEntry(new ZipEntry(e.getKey()));
        z.write(e.getValue());
        z.closeEntry();
      }
    }
    return out.toByteArray();
  }

  static byte[] zip(Map<String, byte[]> entries) throws IOException {
    return zip(Deflater.DEFAULT_COMPRESSION, entries);
  }

  private static byte[] validNpy() {
    return Npy.toBytes(Tensor.ofInts(new long[] {2, 2}, new int[] {1, 2, 3, 4}));
  }

  @Test
  void readsAHandWrittenHeaderLikeNumpysOwn() {
    byte[] b = npy("<i4", "(2,)", new byte[] {1, 0, 0, 0, 2, 0, 0, 0});
    assertEquals(Tensor.ofInts(new long[] {2}, new int[] {1, 2}), Transports.readNpy(b, SMALL));
    assertTrue(Arrays.equals(b, Npy.toBytes(Tensor.ofInts(new long[] {2}, new int[] {1, 2}))));
  }

  @Test
  void rejectsBadMagic() {
    byte[] b = validNpy();
    b[1] = 'X';
    assertTrue(rejectedNpy(b, SMALL).getMessage().contains("bad magic"));
    rejectedNpy("PK\u0003\u0004 not an npy".getBytes(StandardCharsets.ISO_8859_1), SMALL);
  }

  @Test
  void rejectsUnsupportedVersionsAndHugeHeaderLengths() {
    byte[] v4 = validNpy();
    v4[6] = 4;
    assertTrue(rejectedNpy(v4, SMALL).getMessage().contains("version"));
    byte[] huge = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
    assertTrue(rejectedNpy(huge, HUGE).getMessage().contains("header too long"));
    byte[] claimsMore = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) 0xff, (byte) 0x7f, '{'};
    rejectedNpy(claimsMore, HUGE);
  }

  @Test
  void rejectsShapesClaimingMoreElementsThanAnArrayCanHold() {
    rejectedNpy(npy("<f4", "(1099511627776,)", new byte[0]), HUGE);
    rejectedNpy(npy("<f4", "(1048576, 1048576)", new byte[0]), HUGE);
    rejectedNpy(npy("<f4", "(4294967296, 4294967296, 4294967296)", new byte[0]), HUGE);
    rejectedNpy(npy("|u1", "(999999999999999999999,)", new byte[0]), HUGE);
    assertTrue(rejectedNpy(npy("<f4", "(1001,)", new byte[0]), SMALL).getMessage().contains("limit is 1000"));
    rejectedNpy(npy("<f8", "(600,)", new byte[4800]), SMALL);
  }

  @Test
  void rejectsATruncatedArrayWithoutAllocatingItsClaimedSize() {
    // The header claims 2 GB (within HUGE limits) but only 10 bytes follow: with a 1 GiB test heap,
    // allocating the claim up front would fail with OutOfMemoryError instead of a clear refusal.
    assertTrue(rejectedNpy(npy("|u1", "(2000000000,)", new byte[10]), HUGE).getMessage().contains("truncated"));
    rejectedNpy(npy("<f8", "(268435455,)", new byte[10]), HUGE);
    rejectedNpy(npy("<f4", "(1073741823,)", new byte[10]), HUGE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"(-1,)", "(2, -3)", "(1 2,)", "(,)", "(1,,2)", "(2.0,)", "(0x10,)", "[2]", "2", "(a,)", "(1))"})
  void rejectsMalformedShapes(String shape) {
    rejectedNpy(npy("<f4", shape, new byte[64]), SMALL);
  }

  @ParameterizedTest
  @ValueSource(strings = {">f4", ">i8", ">u2", "<f2", "<c8", "|O", "<U5", "|S3", "<M8[s]", "f4", "<u4", "<u8"})
  void rejectsDtypesThatAreBigEndianOrNotVerityTypes(String descr) {
    rejectedNpy(npy(descr, "(1,)", new byte[16]), SMALL);
  }

  @Test
  void rejectsFortranOrderAndHeadersMissingKeys() {
    byte[] fortran = npy("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 2), }", new byte[16]);
    assertTrue(rejectedNpy(fortran, SMALL).getMessage().contains("Fortran"));
    rejectedNpy(npy("{'descr': '<i4', 'shape': (2,), }", new byte[8]), SMALL);
    rejectedNpy(npy("{'fortran_order': False, 'shape': (2,), }", new byte[8]), SMALL);
    rejectedNpy(npy("{'descr': '<i4', 'fortran_order': False, }", new byte[8]), SMALL);
    rejectedNpy(npy("", new byte[8]), SMALL);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'shape': (3,), }",
      "{'descr': '<i4', 'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'extra': True, }",
      "{'descr': '<i4' 'fortran_order': False, 'shape': (2,), }",
      "{'descr': '<i4', 'fortran_order': 'False', 'shape': (2,), }",
      "{'descr': True, 'fortran_order': False, 'shape': (2,), }",
      "{'descr': '<i4', 'fortran_order': False, 'shape': '(2,)', }",
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2), }",
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), } trailing",
      "'descr': '<i4', 'fortran_order': False, 'shape': (2,)",
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2,),, }"})
  void rejectsHeadersThatAreNotExactlyNumpysDictionary(String dict) {
    rejectedNpy(npy(dict, new byte[8]), SMALL);
  }

  @Test
  void acceptsHeadersInAnyKeyOrderWithOrWithoutTrailingComma() {
    Tensor expected = Tensor.ofInts(new long[] {2}, new int[] {0, 0});
    assertEquals(expected, Transports.readNpy(npy("{'shape': (2,), 'fortran_order': False, 'descr': '<i4'}", new byte[8]), SMALL));
    assertEquals(expected, Transports.readNpy(npy("{'descr':'<i4','fortran_order':False,'shape':( 2 , ),}", new byte[8]), SMALL));
  }

  @Test
  void rejectsBoolArraysHoldingOtherBytes() {
    rejectedNpy(npy("|b1", "(2,)", new byte[] {1, 2}), SMALL);
  }

  @Test
  void rejectsEveryTruncationOfAValidArray() {
    byte[] full = validNpy();
    for (int n = 0; n < full.length; n++) {
      rejectedNpy(Arrays.copyOf(full, n), SMALL);
    }
  }

  @Property(tries = 300)
  void randomBytesAreRejectedAsNpy(@ForAll @Size(max = 300) byte[] junk) {
    rejectedNpy(junk, HUGE);
  }

  @Property(tries = 300)
  void randomBytesAfterTheMagicAreRejectedAsNpy(@ForAll @Size(max = 300) byte[] junk) {
    byte[] b = new byte[8 + junk.length];
    System.arraycopy(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}, 0, b, 0, 8);
    System.arraycopy(junk, 0, b, 8, junk.length);
    rejectedNpy(b, HUGE);
  }

  @Property(tries = 500)
  void mutatedArraysDecodeOrAreRejectedWithDecodingException(
      @ForAll @IntRange(min = 0, max = 1000) int position, @ForAll byte value) {
    byte[] b = validNpy();
    b[position % b.length] = value;
    try {
      Npy.read(new ByteArrayInputStream(b), "t", HUGE);
    } catch (DecodingException expected) {
      // refused clearly
    } catch (IOException e) {
      throw new AssertionError("in-memory input cannot fail with I/O", e);
    }
  }

  // ---- .npz ----

  @Test
  void refusesAZipBombEntryThatInflatesPastItsArray() throws IOException {
    // A small valid array followed by 64 MiB of zeros deflates to about 64 KiB.
    ByteArrayOutputStream bomb = new ByteArrayOutputStream();
    bomb.writeBytes(npy("|u1", "(16,)", new byte[16]));
    bomb.writeBytes(new byte[64 << 20]);
    byte[] zip = zip(Deflater.BEST_COMPRESSION, Map.of("x.npy", bomb.toByteArray()));
    assertTrue(zip.length < 256 * 1024, "the bomb is small: " + zip.length);
    assertTrue(rejectedNpz(zip, SMALL).getMessage().contains("x"));
    rejectedNpz(zip, TensorLimits.DEFAULT);
  }

  @Test
  void refusesAZipBombWhoseHeaderClaimsMoreThanTheLimits() throws IOException {
    ByteArrayOutputStream bomb = new ByteArrayOutputStream();
    bomb.writeBytes(npy("|u1", "(1000000000,)", new byte[0]));
    bomb.writeBytes(new byte[32 << 20]);
    byte[] zip = zip(Deflater.BEST_COMPRESSION, Map.of("x.npy", bomb.toByteArray()));
    rejectedNpz(zip, SMALL);
    rejectedNpz(zip, TensorLimits.DEFAULT);
    TensorLimits fewBytes = new TensorLimits(4, Integer.MAX_VALUE, 1 << 20);
    assertTrue(rejectedNpz(zip, fewBytes).getMessage().contains("bytes"));
  }

  @Test
  void refusesArchivesWhoseEntriesTogetherExceedTheByteLimit() throws IOException {
    byte[] oneKiB = npy("|u1", "(1024,)", new byte[1024]);
    byte[] zip = zip(Map.of("a.npy", oneKiB, "b.npy", oneKiB, "c.npy", oneKiB, "d.npy", oneKiB, "e.npy", oneKiB));
    rejectedNpz(zip, new TensorLimits(10, 1 << 20, 4096));
    rejectedNpz(zip, new TensorLimits(4, 1 << 20, 1 << 20));
  }

  @Test
  void rejectsDuplicateNames() throws IOException {
    // ZipOutputStream refuses duplicates, so the archive is two single-entry archives' local entries.
    byte[] a = zip(Map.of("x.npy", validNpy()));
    byte[] twice = rawDuplicateEntries(a);
    assertTrue(rejectedNpz(twice, SMALL).getMessage().contains("twice"));
  }

  /** The first local entry of {@code zip} written twice, followed by an end of central directory. */
  private static byte[] rawDuplicateEntries(byte[] zip) {
    int central = indexOf(zip, new byte[] {'P', 'K', 1, 2});
    byte[] local = Arrays.copyOf(zip, central);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(local);
    out.writeBytes(local);
    out.writeBytes(new byte[] {'P', 'K', 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    return out.toByteArray();
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }

  @ParameterizedTest
  @ValueSource(strings = {"dir/", "readme.txt", "x.NPY", "x.npy.gz", "sub/x.npy", ".npy", "x"})
  void rejectsEntriesThatAreNotTopLevelArrays(String entry) throws IOException {
    rejectedNpz(zip(Map.of(entry, validNpy())), SMALL);
  }

  @Test
  void rejectsMoreEntriesThanTheTensorLimit() throws IOException {
    byte[] v = validNpy();
    rejectedNpz(zip(Map.of("a.npy", v, "b.npy", v, "c.npy", v, "d.npy", v)), SMALL);
  }

  @Test
  void rejectsEmptyArchivesAndNonArchives() throws IOException {
    rejectedNpz(zip(Map.of()), SMALL);
    rejectedNpz(new byte[0], SMALL);
    rejectedNpz(validNpy(), SMALL);
  }

  @Test
  void rejectsAnEntryWhoseArrayIsInvalid() throws IOException {
    byte[] bad = validNpy();
    bad[0] = 0;
    rejectedNpz(zip(Map.of("x.npy", bad)), SMALL);
    rejectedNpz(zip(Map.of("x.npy", Arrays.copyOf(validNpy(), 70))), SMALL);
  }

  @Test
  void rejectsEntryNamesThatAreNotUtf8() throws IOException {
    byte[] z = zip(Deflater.NO_COMPRESSION, Map.of("x.npy", validNpy()));
    // Local header: the name starts at offset 30. Turn 'x' into a lone UTF-8 continuation byte.
    assertEquals('x', z[30]);
    z[30] = (byte) 0xff;
    rejectedNpz(z, SMALL);
  }

  @Test
  void rejectsStoredEntriesWhoseChecksumIsWrong() throws IOException {
    byte[] npy = validNpy();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out)) {
      ZipEntry e = new ZipEntry("x.npy");
      e.setMethod(ZipEntry.STORED);
      e.setSize(npy.length);
      CRC32 crc = new CRC32();
      crc.update(npy);
      e.setCrc(crc.getValue() ^ 1);
      z.putNextEntry(e);
      z.write(npy);
      z.closeEntry();
    } catch (java.util.zip.ZipException writerRefused) {
      return; // this JDK checks the CRC while writing; nothing to read
    }
    rejectedNpz(out.toByteArray(), SMALL);
  }

  @Test
  void truncatedArchivesAreRejectedOrLoseWholeTrailingEntries() throws IOException {
    // .npz is read as a stream of local entries. A cut inside an entry is refused; a cut inside the
    // fixed part of a later entry's local header reads as a shorter archive. That shorter set of
    // tensors has another CID and lacks a declared tensor, so receipts and specs still catch it.
    java.util.LinkedHashMap<String, byte[]> entries = new java.util.LinkedHashMap<>();
    entries.put("x.npy", validNpy());
    entries.put("y.npy", validNpy());
    byte[] full = zip(entries);
    int second = indexOf(Arrays.copyOfRange(full, 4, full.length), new byte[] {'P', 'K', 3, 4}) + 4;
    int central = indexOf(full, new byte[] {'P', 'K', 1, 2});
    for (int n = 0; n < central; n++) {
      byte[] prefix = Arrays.copyOf(full, n);
      if (n >= second && n < second + 30) {
        try {
          NamedTensors read = Npy.readNpz(new ByteArrayInputStream(prefix), SMALL);
          assertEquals(java.util.Set.of("x"), read.names(), "prefix " + n);
        } catch (DecodingException refused) {
          // also acceptable
        }
      } else {
        assertThrows(DecodingException.class, () -> Npy.readNpz(new ByteArrayInputStream(prefix), SMALL), "prefix " + n);
      }
    }
  }

  @Property(tries = 300)
  void randomBytesAreRejectedAsNpz(@ForAll @Size(max = 300) byte[] junk) {
    rejectedNpz(junk, SMALL);
  }

  @Property(tries = 300)
  void mutatedArchivesDecodeOrAreRejectedWithDecodingException(
      @ForAll @IntRange(min = 0, max = 10_000) int position, @ForAll byte value) throws IOException {
    byte[] z = Npy.toNpz(SampleTensors.allBinary());
    z[position % z.length] = value;
    try {
      Npy.readNpz(new ByteArrayInputStream(z), TensorLimits.DEFAULT);
    } catch (DecodingException expected) {
      // refused clearly
    }
  }
}
