package dev.verity.exec;

import dev.verity.onnx.OnnxReader;
import dev.verity.protocol.tensor.NamedTensors;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs models in a fresh JVM and prints, per job, the trace root and the CID of the canonical
 * outputs, so a test can compare runs across JVM configurations. Arguments: a thread count, then
 * folders each holding {@code model.onnx} and {@code inputs.cbor} (canonical NamedTensors). Prints
 * one line per folder: {@code <folder name> <trace root hex> <outputs CID>}.
 */
public final class TraceRootMain {
  private TraceRootMain() {}

  public static void main(String[] args) throws Exception {
    int threads = Integer.parseInt(args[0]);
    for (int i = 1; i < args.length; i++) {
      Path dir = Path.of(args[i]);
      var model = OnnxReader.read(Files.readAllBytes(dir.resolve("model.onnx")));
      var inputs = NamedTensors.fromCanonicalBytes(Files.readAllBytes(dir.resolve("inputs.cbor")));
      try (CanonicalExecutor ex = CanonicalExecutor.create(model, threads)) {
        Execution e = ex.runTraced(inputs);
        System.out.println(dir.getFileName() + " " + e.trace().root().toHex() + " "
            + e.outputs().cid());
      }
    }
  }
}
