package dev.verity.exec;

import dev.verity.onnx.OnnxReader;
import dev.verity.protocol.tensor.NamedTensors;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs a model in a fresh JVM and prints the trace root and the hash of the canonical output
 * encoding, so a test can compare runs across JVM configurations. Arguments: a folder holding
 * {@code model.onnx} and {@code inputs.cbor} (canonical NamedTensors), and a thread count.
 */
public final class TraceRootMain {
  private TraceRootMain() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int threads = Integer.parseInt(args[1]);
    var model = OnnxReader.read(Files.readAllBytes(dir.resolve("model.onnx")));
    var inputs = NamedTensors.fromCanonicalBytes(Files.readAllBytes(dir.resolve("inputs.cbor")));
    try (CanonicalExecutor ex = CanonicalExecutor.create(model, threads)) {
      Execution e = ex.runTraced(inputs);
      System.out.println(e.trace().root().toHex() + " " + e.outputs().cid());
    }
  }
}
