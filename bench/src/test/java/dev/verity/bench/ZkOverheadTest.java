package dev.verity.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Runs the zk harness on the built-in models with one proof each so that it cannot rot unnoticed.
 * It checks what was measured and written, never how fast anything was.
 */
class ZkOverheadTest {
  @Test
  void measuresProofsAndBaselinesAndReportsAccuracy() throws Exception {
    ZkOverhead.Settings tiny = new ZkOverhead.Settings(1, 20, true, Optional.empty(), "smoke test");
    String section = ZkOverhead.run(tiny, new PrintStream(OutputStream.nullOutputStream()));
    for (String model : new String[] {"(c) built-in breast-cancer", "(c) built-in digits-cnn"}) {
      assertTrue(section.contains("| " + model + " |"), model + " missing:\n" + section);
    }
    assertTrue(section.contains("ONNX Runtime (float)") && section.contains("integer network"), section);
    assertTrue(section.contains("### Quantization accuracy"), section);
    assertTrue(section.contains("with `smoke test`"), section);
  }

  @Test
  void theMlpAndLeNetCompileToTheStatedShapes() {
    assertTrue(dev.verity.zk.OnnxCompiler.compile(dev.verity.core.Cid.raw(ZkOverhead.mlp().onnx()), ZkOverhead.mlp().onnx())
        .describe().startsWith("784x1x1 -> dense 56"));
    String lenet = dev.verity.zk.OnnxCompiler.compile(dev.verity.core.Cid.raw(ZkOverhead.lenet().onnx()),
        ZkOverhead.lenet().onnx()).describe();
    assertTrue(lenet.startsWith("1x28x28 -> conv 6@5x5") && lenet.contains("conv 16@5x5") && lenet.contains("dense 120"), lenet);
  }
}
