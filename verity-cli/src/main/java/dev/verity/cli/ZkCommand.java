package dev.verity.cli;

import dev.verity.core.BlobCid;
import dev.verity.onnx.ActivationRanges;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxReader;
import dev.verity.onnx.OnnxWriter;
import dev.verity.protocol.tensor.ElementType;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.zk.CompiledModel;
import dev.verity.zk.OnnxCompiler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** verity zk calibrate|check: prepare an ONNX model for mode zk, offline. */
@Command(name = "zk", description = "Prepare ONNX models for zero-knowledge proofs (mode zk).",
    subcommands = {ZkCommand.Calibrate.class, ZkCommand.Check.class})
final class ZkCommand {

  @Command(name = "calibrate", description = "Measure calibration ranges on example inputs and write a copy of the model"
      + " that carries them (a new file, so a new CID): what mode zk derives its fixed-point scales from.")
  static final class Calibrate implements Callable<Integer> {
    @Parameters(index = "0", description = "the .onnx file") Path file;
    @Option(names = "--examples", required = true, description = "representative inputs (.npz or .json): the model's input with a batch of N examples")
    Path examples;
    @Option(names = {"-o", "--output"}, required = true, description = "where to write the calibrated model") Path out;

    @Override
    public Integer call() throws Exception {
      OnnxModel model = OnnxReader.read(Files.readAllBytes(file));
      String input = model.realInputs().get(0).name();
      NamedTensors tensors = TensorFiles.read(examples, Optional.empty());
      Tensor t = tensors.asMap().get(input);
      if (t == null || t.type() != ElementType.FLOAT32 || t.rank() < 2 || t.shape()[0] < 1) {
        throw new IllegalArgumentException("the examples need a float32 tensor '" + input + "' with a batch dimension first");
      }
      int rows = (int) t.shape()[0];
      float[] all = t.toFloats();
      int width = all.length / rows;
      List<float[]> list = new ArrayList<>();
      for (int r = 0; r < rows; r++) {
        list.add(Arrays.copyOfRange(all, r * width, (r + 1) * width));
      }
      byte[] calibrated = OnnxWriter.write(ActivationRanges.measure(model, list).embedIn(model));
      CompiledModel c = OnnxCompiler.compile(BlobCid.of(new java.io.ByteArrayInputStream(calibrated)), calibrated);
      Files.write(out, calibrated);
      System.out.println("calibrated on " + rows + " examples; wrote " + out + " (" + calibrated.length + " bytes)");
      System.out.println("circuit: " + c.describe());
      return 0;
    }
  }

  @Command(name = "check", description = "Compile a model for proofs and show the circuit, or say why it cannot be proven.")
  static final class Check implements Callable<Integer> {
    @Parameters(index = "0", description = "the .onnx file") Path file;

    @Override
    public Integer call() throws Exception {
      byte[] bytes = Files.readAllBytes(file);
      CompiledModel c = OnnxCompiler.compile(BlobCid.of(file), bytes);
      System.out.println("provable: " + c.describe());
      System.out.println("input '" + c.inputName() + "' " + Arrays.toString(c.inputDims()) + ", scales 2^"
          + Arrays.toString(c.inputExponents()) + "; output '" + c.outputName() + "' " + Arrays.toString(c.outputDims()));
      return 0;
    }
  }
}
