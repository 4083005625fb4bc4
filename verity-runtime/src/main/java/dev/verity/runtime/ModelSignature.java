package dev.verity.runtime;

import dev.verity.core.DecodingException;
import dev.verity.protocol.tensor.Dim;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.protocol.tensor.TensorLimits;
import dev.verity.protocol.tensor.TensorSpec;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The inputs and outputs of a loaded model, in the model's order, and the checks that keep bad
 * inputs away from native code.
 */
public record ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs) {

  public ModelSignature {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    requireUniqueNames(inputs, "input");
    requireUniqueNames(outputs, "output");
  }

  private static void requireUniqueNames(List<TensorSpec> specs, String what) {
    Set<String> seen = new HashSet<>();
    for (TensorSpec s : specs) {
      if (!seen.add(s.name())) {
        throw new IllegalArgumentException("two " + what + "s are named '" + s.name() + "'");
      }
    }
  }

  public List<String> inputNames() {
    return inputs.stream().map(TensorSpec::name).toList();
  }

  public List<String> outputNames() {
    return outputs.stream().map(TensorSpec::name).toList();
  }

  /**
   * Checks that the fixed axes a model declares stay within {@code limits}, so that no tensor fit
   * for this model can be larger than a node allows.
   *
   * @throws ModelLoadException naming the first tensor whose fixed axes alone exceed the limit
   */
  public void checkDeclaredSizes(TensorLimits limits) {
    checkDeclared(inputs, "input", limits);
    checkDeclared(outputs, "output", limits);
  }

  private static void checkDeclared(List<TensorSpec> specs, String what, TensorLimits limits) {
    for (TensorSpec s : specs) {
      long n = 1;
      for (Dim d : s.shape()) {
        if (d.isDynamic()) {
          continue;
        }
        if (d.size() > 0 && n > limits.maxElements() / d.size()) {
          throw new ModelLoadException(
              "model declares " + what + " '" + s.name() + "' with shape " + s.shapeText()
                  + ", more than the limit of " + limits.maxElements() + " elements per tensor");
        }
        n *= d.size();
      }
    }
  }

  /**
   * Checks inputs for a run: every input the model takes is present and no other, each has the
   * declared element type and a shape its declared axes accept, axes that share a symbolic name
   * have one size, and counts and sizes stay within {@code limits}.
   *
   * @throws InvalidInputException saying which tensor is wrong, what it has and what is expected
   */
  public void checkInputs(NamedTensors given, TensorLimits limits) {
    if (given.size() > limits.maxTensors()) {
      throw new InvalidInputException(
          given.size() + " input tensors given, the limit is " + limits.maxTensors());
    }
    Set<String> expected = new HashSet<>(inputNames());
    for (String name : given.names()) {
      if (!expected.contains(name)) {
        throw new InvalidInputException(
            "unknown input '" + name + "'; the model takes " + inputNames());
      }
    }
    long totalBytes = 0;
    Map<String, long[]> symbolSizes = new HashMap<>();
    Map<String, String> symbolOwner = new HashMap<>();
    for (TensorSpec spec : inputs) {
      Tensor t = given.asMap().get(spec.name());
      if (t == null) {
        throw new InvalidInputException(
            "missing input '" + spec.name() + "' (" + spec.type().wireName() + " " + spec.shapeText()
                + "); the model takes " + inputNames());
      }
      if (t.elementCount() > limits.maxElements()) {
        throw new InvalidInputException(
            "input '" + spec.name() + "' has " + t.elementCount() + " elements; the limit is "
                + limits.maxElements());
      }
      try {
        spec.check(t);
      } catch (DecodingException e) {
        throw new InvalidInputException(e.getMessage());
      }
      long[] shape = t.shape();
      for (int i = 0; i < shape.length; i++) {
        Dim d = spec.shape().get(i);
        if (!d.isDynamic() || d.symbol().isEmpty()) {
          continue;
        }
        long[] seen = symbolSizes.putIfAbsent(d.symbol(), new long[] {shape[i]});
        if (seen == null) {
          symbolOwner.put(d.symbol(), spec.name());
        } else if (seen[0] != shape[i]) {
          throw new InvalidInputException(
              "input '" + spec.name() + "' has shape " + Arrays.toString(shape) + ": axis "
                  + d.symbol() + " is " + shape[i] + " here but " + seen[0] + " in input '"
                  + symbolOwner.get(d.symbol()) + "'; the model expects " + spec.shapeText());
        }
      }
      totalBytes += t.byteSize();
      if (totalBytes > limits.maxTotalBytes()) {
        throw new InvalidInputException(
            "inputs carry more than " + limits.maxTotalBytes() + " bytes; send less or raise the limit");
      }
    }
  }
}
