package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.ReceiptVerifier;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityApiException;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a node stores survives it: published versions, yanks and the node key are there after a
 * restart on the same data directory, and two nodes never share one directory.
 */
class RestartTest {
  @TempDir Path tmp;

  @Test
  void versionsYanksAndTheNodeKeySurviveARestart() throws Exception {
    Path data = tmp.resolve("node");
    Signer owner = Signer.generate();
    ExampleModel m = BuiltinModels.byName(BuiltinModels.DIGITS_CNN).orElseThrow();
    Path file = NodeHarness.write(tmp, "digits.onnx", m.onnx());
    NamedTensors inputs = NodeHarness.sampleInputs(m, 0);
    ModelRef v1 = ModelRef.of(owner.address(), m.name(), "1.0.0");
    ModelRef v2 = ModelRef.of(owner.address(), m.name(), "2.0.0");

    PublicKey key;
    ModelManifest first;
    InferenceResult before;
    try (VerityNode node = NodeHarness.start(data); VerityClient c = NodeHarness.client(node, owner)) {
      key = node.publicKey();
      first = c.publish(file, Publication.of(m.name(), "1.0.0"), ProgressListener.NONE);
      c.publish(file, Publication.of(m.name(), "2.0.0"), ProgressListener.NONE);
      c.yank(v2, "broken preprocessing");
      before = c.infer(v1, inputs);
    }

    try (VerityNode node = NodeHarness.start(data); VerityClient c = NodeHarness.client(node, owner)) {
      assertEquals(key, node.publicKey());
      assertEquals(List.of("1.0.0", "2.0.0"), c.listModels().stream()
          .filter(r -> r.name().equals(m.name())).findFirst().orElseThrow().versions());
      assertEquals(first, c.model(v1).manifest());
      VerityClient.ModelVersion yanked = c.model(v2);
      assertTrue(yanked.yanked());
      assertEquals("broken preprocessing", yanked.yankReason().orElseThrow());
      assertEquals(410, assertThrows(VerityApiException.class, () -> c.infer(v2, inputs)).status());
      assertEquals(first, c.model(ModelRef.latest(owner.address(), m.name())).manifest());

      InferenceResult after = c.infer(v1, inputs);
      assertEquals(before.outputs(), after.outputs());
      assertEquals(before.receipt().outputs(), after.receipt().outputs());
      // A receipt from before the restart still verifies against the same, unchanged node key.
      ReceiptVerifier.create().trustingOnly(Set.of(node.publicKey())).verify(before.receipt(), first, inputs, before.outputs());

      Path out = tmp.resolve("after-restart.onnx");
      c.download(v1, out, ProgressListener.NONE);
      assertArrayEquals(m.onnx(), Files.readAllBytes(out));
    }
  }

  @Test
  void aSecondNodeInThisProcessCannotOpenADirectoryInUse() throws Exception {
    Path data = tmp.resolve("node");
    try (VerityNode running = NodeHarness.start(data)) {
      IOException e = assertThrows(IOException.class, () -> NodeHarness.start(data));
      assertTrue(e.getMessage().contains("another Verity node is using"), e.getMessage());
      // Refusing the second node did not disturb the first.
      assertEquals(200, NodeHarness.get(running.uri(), "/health").status());
    }
    try (VerityNode again = NodeHarness.start(data)) {
      assertEquals(200, NodeHarness.get(again.uri(), "/health").status());
    }
  }

  @Test
  void aSecondNodeInAnotherProcessCannotOpenADirectoryInUse() throws Exception {
    Path data = tmp.resolve("node");
    try (VerityNode running = NodeHarness.start(data)) {
      Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), SecondNode.class.getName(), data.toString())
          .redirectErrorStream(true).start();
      assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the second node exits");
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(3, p.exitValue(), output);
      assertTrue(output.contains("another Verity node is using"), output);
      assertEquals(200, NodeHarness.get(running.uri(), "/health").status());
    }
  }

  /** Tries to start a node on the directory given; exits 3 with the message of the IOException. */
  public static final class SecondNode {
    public static void main(String[] args) {
      try (VerityNode node = NodeHarness.start(Path.of(args[0]))) {
        System.out.println("started on " + node.uri());
        System.exit(0);
      } catch (IOException e) {
        System.out.println(e.getMessage());
        System.exit(3);
      }
    }
  }

  @Test
  void aNodeThatFailsToStartLeavesItsDirectoryUsable() throws Exception {
    Path data = tmp.resolve("node");
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      NodeConfig onTakenPort = NodeConfig.defaults().withDataDir(data).withPort(taken.getLocalPort());
      assertThrows(IOException.class, () -> VerityNode.start(onTakenPort));
    }
    try (VerityNode node = NodeHarness.start(data)) {
      assertEquals(200, NodeHarness.get(node.uri(), "/health").status());
    }
  }
}
