package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.crypto.Signer;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Npy;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Whatever arrives at the inference endpoint, the node answers with a result or a 4xx problem
 * document, never a 5xx, and goes on serving: random bytes, and valid JSON and .npz requests with
 * bytes flipped, cut, inserted and duplicated.
 */
class InferEndpointFuzzTest {
  static Path dir;
  static VerityNode node;
  static String inferPath;
  static byte[] validJson;
  static byte[] validNpz;

  @BeforeContainer
  static void publish() throws Exception {
    dir = Files.createTempDirectory("verity-fuzz");
    node = NodeHarness.start(dir.resolve("node"));
    ExampleModel m = BuiltinModels.byName(BuiltinModels.BREAST_CANCER).orElseThrow();
    Path file = NodeHarness.write(dir, "model.onnx", m.onnx());
    try (VerityClient c = NodeHarness.client(node, Signer.generate())) {
      ModelManifest manifest = c.publish(file, Publication.of(m.name(), "1.0.0"), ProgressListener.NONE);
      inferPath = NodeHarness.versionPath(manifest) + "/infer";
    }
    NamedTensors inputs = NodeHarness.sampleInputs(m, 0);
    validJson = NodeHarness.inferJson(inputs);
    validNpz = Npy.toNpz(inputs);
  }

  @AfterContainer
  static void stop() throws IOException {
    if (node != null) {
      node.close();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Provide
  Arbitrary<String> contentTypes() {
    return Arbitraries.of("application/json", "application/x-npz", "application/json; charset=utf-8", "text/plain");
  }

  /** Posts {@code body}; the answer must be a result or a 4xx problem, and the node must stay up. */
  private static void assertAnsweredWithout5xx(String contentType, byte[] body) {
    NodeHarness.Response r = NodeHarness.post(node.uri(), inferPath, contentType, body);
    if (r.status() != 200) {
      assertTrue(r.status() >= 400 && r.status() < 500, () -> "status " + r.status() + ": " + r.text());
      NodeHarness.assertProblem(r, r.status());
    }
    assertEquals(200, NodeHarness.get(node.uri(), "/health").status());
  }

  @Property(tries = 30)
  void randomBytesGetA4xxProblem(@ForAll @Size(max = 2000) byte[] body, @ForAll("contentTypes") String contentType) {
    assertAnsweredWithout5xx(contentType, body);
  }

  @Property(tries = 30)
  void mutatedJsonRequestsNeverGetA5xx(@ForAll long seed, @ForAll @IntRange(min = 1, max = 6) int mutations) {
    assertAnsweredWithout5xx("application/json", mutate(validJson, seed, mutations));
  }

  @Property(tries = 30)
  void mutatedNpzRequestsNeverGetA5xx(@ForAll long seed, @ForAll @IntRange(min = 1, max = 6) int mutations) {
    assertAnsweredWithout5xx("application/x-npz", mutate(validNpz, seed, mutations));
  }

  /** Applies {@code count} random edits: flip a bit, delete, insert, duplicate a range, or cut short. */
  static byte[] mutate(byte[] original, long seed, int count) {
    SplittableRandom rnd = new SplittableRandom(seed);
    byte[] b = original.clone();
    for (int i = 0; i < count && b.length > 0; i++) {
      int at = rnd.nextInt(b.length);
      switch (rnd.nextInt(5)) {
        case 0 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
        case 1 -> {
          int n = Math.min(b.length - at, 1 + rnd.nextInt(8));
          byte[] c = new byte[b.length - n];
          System.arraycopy(b, 0, c, 0, at);
          System.arraycopy(b, at + n, c, at, b.length - at - n);
          b = c;
        }
        case 2 -> {
          byte[] c = new byte[b.length + 1];
          System.arraycopy(b, 0, c, 0, at);
          c[at] = (byte) " {}[],:\"0123456789-.eE".charAt(rnd.nextInt(22));
          System.arraycopy(b, at, c, at + 1, b.length - at);
          b = c;
        }
        case 3 -> {
          int n = Math.min(b.length - at, 1 + rnd.nextInt(32));
          byte[] c = new byte[b.length + n];
          System.arraycopy(b, 0, c, 0, at + n);
          System.arraycopy(b, at, c, at + n, b.length - at);
          b = c;
        }
        default -> b = java.util.Arrays.copyOf(b, at);
      }
    }
    return b;
  }
}
