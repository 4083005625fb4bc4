package dev.verity.node;

import static dev.verity.node.NodeHarness.assertProblem;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.ChunkIndex;
import dev.verity.core.Cid;
import dev.verity.core.crypto.Signer;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityApiException;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bytes that rot on the node's disk are never served: a flipped byte in a stored chunk
 * ({@code blobs/blocks/**}) or in the assembled model file ({@code models/}) is found by
 * re-hashing, downloads and inferences then fail cleanly or are served from an intact copy, and the
 * node keeps serving everything else. Each test has its own node, since some restart it.
 */
class CorruptionOnDiskTest {
  @TempDir Path tmp;
  Path dataDir;
  VerityNode node;
  Signer owner;
  VerityClient client;
  ExampleModel cancer;
  ExampleModel digits;
  Path cancerFile;
  Path digitsFile;
  ModelManifest cancerManifest;
  ModelManifest digitsManifest;

  @BeforeEach
  void publishTwoModels() throws Exception {
    dataDir = tmp.resolve("node");
    owner = Signer.generate();
    cancer = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow();
    digits = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
    cancerFile = NodeHarness.write(tmp, "cancer.onnx", cancer.onnx());
    digitsFile = NodeHarness.write(tmp, "digits.onnx", digits.onnx());
    start();
    cancerManifest = client.publish(cancerFile, Publication.of(cancer.name(), "1.0.0"), ProgressListener.NONE);
    digitsManifest = client.publish(digitsFile, Publication.of(digits.name(), "1.0.0"), ProgressListener.NONE);
  }

  private void start() throws IOException {
    node = NodeHarness.start(dataDir);
    client = NodeHarness.client(node, owner);
  }

  private void restart() throws IOException {
    stop();
    start();
  }

  @AfterEach
  void stop() throws IOException {
    client.close();
    node.close();
  }

  // ---- the files on disk -------------------------------------------------------------------

  /** The stored file of one block, wherever the store keeps it under blobs/blocks/. */
  private Path blockFile(Cid block) throws IOException {
    try (Stream<Path> files = Files.walk(dataDir.resolve("blobs").resolve("blocks"))) {
      return files.filter(p -> p.getFileName().toString().equals(block.toString())).findFirst()
          .orElseThrow(() -> new AssertionError("block " + block + " is not stored"));
    }
  }

  private Path modelFile(Cid model) {
    return dataDir.resolve("models").resolve(model + ".onnx");
  }

  private static void flipByte(Path file, long at) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0x40);
    }
  }

  private List<Path> quarantined() throws IOException {
    try (Stream<Path> files = Files.list(dataDir.resolve("blobs").resolve("quarantine"))) {
      return files.toList();
    }
  }

  // ---- checks ------------------------------------------------------------------------------

  private void assertServes(ExampleModel m, Path file) throws Exception {
    NamedTensors inputs = NodeHarness.sampleInputs(m, 0);
    assertEquals(NodeHarness.runDirectly(file, node.config(), inputs),
        client.infer(ModelRef.of(owner.address(), m.name(), "1.0.0"), inputs).outputs());
  }

  private void assertDownloads(ModelManifest m, Path original) throws Exception {
    Path out = tmp.resolve("download-" + m.repository() + ".onnx");
    client.download(ModelRef.ofManifest(m.cid()), out, ProgressListener.NONE);
    assertArrayEquals(Files.readAllBytes(original), Files.readAllBytes(out));
  }

  private void assertDownloadRefused(ModelManifest m) {
    Path out = tmp.resolve("refused-" + m.repository() + ".onnx");
    VerityApiException e = assertThrows(VerityApiException.class,
        () -> client.download(ModelRef.ofManifest(m.cid()), out, ProgressListener.NONE));
    assertEquals(503, e.status(), e.getMessage());
    assertEquals("blob-unavailable", e.type());
    assertFalse(Files.exists(out));
    assertProblem(NodeHarness.get(node.uri(), "/v1/blobs/" + m.model()), 503, m.model().toString());
  }

  // ---- tests -------------------------------------------------------------------------------

  @Test
  void aCorruptStoredChunkIsNeverDownloadedAndOtherModelsStayServed() throws Exception {
    flipByte(blockFile(cancerManifest.model()), 100);

    assertDownloadRefused(cancerManifest);
    assertEquals(1, quarantined().size(), "the bad block is moved aside for inspection");
    assertDownloadRefused(cancerManifest);
    assertDownloads(digitsManifest, digitsFile);
    // The model was verified when it was loaded, so the running copy still serves correct outputs.
    assertServes(cancer, cancerFile);
    assertServes(digits, digitsFile);

    // Uploading the same file again heals the store.
    assertEquals(cancerManifest.model(), client.uploadBlob(cancerFile, ProgressListener.NONE));
    assertDownloads(cancerManifest, cancerFile);
  }

  @Test
  void aCorruptChunkInsideALargeBlobStopsTheDownloadBeforeItsBytes() throws Exception {
    Path wideFile = NodeHarness.write(tmp, "wide.onnx", TestModels.wideMatMul(100_000, 3));
    ModelManifest wide = client.publish(wideFile, Publication.of("wide", "1.0.0"), ProgressListener.NONE);
    byte[] bytes = Files.readAllBytes(wideFile);
    assertTrue(ChunkIndex.isChunked(bytes.length));
    Cid second = Cid.raw(Arrays.copyOfRange(bytes, ChunkIndex.CHUNK_SIZE, Math.min(bytes.length, 2 * ChunkIndex.CHUNK_SIZE)));
    flipByte(blockFile(second), 10);

    // The first chunk is already on its way when the second fails its hash: the node cuts the
    // response short rather than send a byte of the bad chunk, and the client keeps nothing.
    Path out = tmp.resolve("wide-download.onnx");
    assertThrows(IOException.class, () -> client.download(ModelRef.ofManifest(wide.cid()), out, ProgressListener.NONE));
    assertFalse(Files.exists(out));
    assertDownloadRefused(wide);
    assertServes(digits, digitsFile);

    assertEquals(wide.model(), client.uploadBlob(wideFile, ProgressListener.NONE));
    assertDownloads(wide, wideFile);
  }

  @Test
  void aCorruptModelFileIsReassembledFromTheBlobStore() throws Exception {
    Path cached = modelFile(cancerManifest.model());
    byte[] original = Files.readAllBytes(cached);
    assertArrayEquals(cancer.onnx(), original);
    stop();
    flipByte(cached, original.length / 2);
    start();

    assertServes(cancer, cancerFile);
    assertArrayEquals(cancer.onnx(), Files.readAllBytes(cached), "the damaged model file was replaced");
    assertDownloads(cancerManifest, cancerFile);
    assertServes(digits, digitsFile);
  }

  @Test
  void aModelWhoseEveryStoredCopyIsDamagedIsReportedUnavailable() throws Exception {
    stop();
    flipByte(modelFile(cancerManifest.model()), 50);
    flipByte(blockFile(cancerManifest.model()), 50);
    start();

    NamedTensors inputs = NodeHarness.sampleInputs(cancer, 0);
    VerityApiException e = assertThrows(VerityApiException.class,
        () -> client.infer(ModelRef.of(owner.address(), cancer.name(), "1.0.0"), inputs));
    assertEquals(503, e.status(), e.getMessage());
    assertEquals("model-unavailable", e.type());
    assertProblem(NodeHarness.post(node.uri(), NodeHarness.versionPath(cancerManifest) + "/infer", "application/json",
        NodeHarness.inferJson(inputs)), 503, cancerManifest.model().toString());
    assertServes(digits, digitsFile);
    assertEquals(200, NodeHarness.get(node.uri(), "/health").status());

    assertEquals(cancerManifest.model(), client.uploadBlob(cancerFile, ProgressListener.NONE));
    assertServes(cancer, cancerFile);
    assertArrayEquals(cancer.onnx(), Files.readAllBytes(modelFile(cancerManifest.model())));
  }

  @Test
  void aStoredChunkThatWasTruncatedOrReplacedIsRefusedToo() throws Exception {
    Path block = blockFile(digitsManifest.model());
    Files.write(block, Arrays.copyOf(digits.onnx(), digits.onnx().length - 1));
    assertDownloadRefused(digitsManifest);
    Files.write(blockFile(cancerManifest.model()), Tensor.ofFloats(new long[] {1}, new float[] {1f}).bytes());
    assertDownloadRefused(cancerManifest);
  }
}
