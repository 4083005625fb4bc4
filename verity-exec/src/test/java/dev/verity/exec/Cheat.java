package dev.verity.exec;

import dev.verity.core.Hash;
import dev.verity.onnx.OnnxAttribute;
import dev.verity.onnx.OnnxGraph;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxTensorData;
import dev.verity.onnx.OnnxValueInfo;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * How a dishonest worker can answer an optimistic job, each as a function from the job (model,
 * inputs) to what the worker would commit and return ({@link WorkerClaim}). Every cheat changes
 * the returned outputs or the committed trace; {@link TraceDispute} shows where each is caught.
 *
 * <p>Misbehaving test nodes reuse these through the verity-exec test jar (artifact {@code
 * verity-exec}, type {@code test-jar}, scope test): {@code Cheat.X.claim(model, inputs, other,
 * random)} gives the root, step count and outputs to commit, and the trace to answer a dispute
 * from (absent when the cheat never computed one).
 */
public enum Cheat {
  /** Returns random outputs of the right shapes and a random root, computing nothing. */
  RANDOM_OUTPUT("random output") {
    @Override
    WorkerClaim cheat(OnnxModel model, NamedTensors inputs, Execution honest, NamedTensors other,
        Random random) {
      Map<String, Tensor> out = new TreeMap<>();
      honest.outputs().asMap().forEach((name, t) -> {
        float[] f = new float[(int) t.elementCount()];
        for (int i = 0; i < f.length; i++) {
          f[i] = random.nextFloat();
        }
        out.put(name, Tensor.ofFloats(t.shape(), f));
      });
      byte[] root = new byte[Hash.LENGTH];
      random.nextBytes(root);
      return new WorkerClaim(Hash.wrap(root), model.graph().nodes().size(), NamedTensors.of(out),
          Optional.empty());
    }
  },
  /** Runs honestly and commits the honest trace, but returns outputs with the top class swapped. */
  FLIPPED_TOP_CLASS("flipped top class") {
    @Override
    WorkerClaim cheat(OnnxModel model, NamedTensors inputs, Execution honest, NamedTensors other,
        Random random) {
      Map<String, Tensor> out = new TreeMap<>();
      honest.outputs().asMap().forEach((name, t) -> out.put(name, flipTop(t)));
      return WorkerClaim.withOutputs(honest, NamedTensors.of(out));
    }
  },
  /** Runs a cheaper model with the same inputs and outputs: one linear layer per output. */
  CHEAPER_MODEL("cheaper model") {
    @Override
    WorkerClaim cheat(OnnxModel model, NamedTensors inputs, Execution honest, NamedTensors other,
        Random random) {
      OnnxModel cheap = cheaperModel(model, honest.outputs(), inputs, random);
      return WorkerClaim.of(runTraced(cheap, inputs, null));
    }
  },
  /** Runs the graph with its largest weight tensor perturbed by 0.1 % relative noise. */
  PERTURBED_WEIGHTS("perturbed weights") {
    @Override
    WorkerClaim cheat(OnnxModel model, NamedTensors inputs, Execution honest, NamedTensors other,
        Random random) {
      return WorkerClaim.of(runTraced(perturbed(model, random), inputs, null));
    }
  },
  /** Skips an activation layer (its output is its input), keeping the trace's shape. */
  SKIPPED_LAYER("skipped layer") {
    @Override
    WorkerClaim cheat(OnnxModel model, NamedTensors inputs, Execution honest, NamedTensors other,
        Random random) {
      int skip = -1;
      for (int i = 0; i < model.graph().nodes().size() && skip < 0; i++) {
        if (ACTIVATIONS.contains(model.graph().nodes().get(i).opType())) {
          skip = i;
        }
      }
      if (skip < 0) {
        throw new IllegalArgumentException("the model has no activation layer to skip");
      }
      int s = skip;
      Value in = Value.fromTensor(honest.trace().open(s).inputs().get(0), "skipped input");
      return WorkerClaim.of(runTraced(model, inputs, (step, out) -> step == s ? in : out));
    }
  },
  /** Computes every operator's result in float16 instead of float32 precision. */
  FLOAT16_PRECISION("float16 precision") {
    @Override
    WorkerClaim cheat(OnnxModel model, NamedTensors inputs, Execution honest, NamedTensors other,
        Random random) {
      return WorkerClaim.of(runTraced(model, inputs, (step, out) -> {
        if (!out.isFloat()) {
          return out;
        }
        float[] f = new float[out.f.length];
        for (int i = 0; i < f.length; i++) {
          f[i] = Float.float16ToFloat(Float.floatToFloat16(out.f[i]));
        }
        return Value.ofFloats(out.shape, f);
      }));
    }
  },
  /** Returns (and commits the trace of) another job's result: the same model, other inputs. */
  REPLAYED_OUTPUT("replayed output") {
    @Override
    WorkerClaim cheat(OnnxModel model, NamedTensors inputs, Execution honest, NamedTensors other,
        Random random) {
      return WorkerClaim.of(runTraced(model, other, null));
    }
  };

  private static final Set<String> ACTIVATIONS =
      Set.of("Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "BatchNormalization");

  private final String label;

  Cheat(String label) {
    this.label = label;
  }

  /** A short human-readable name ("flipped top class"). */
  public String label() {
    return label;
  }

  /**
   * What a worker using this cheat commits for a job.
   *
   * @param model the job's model
   * @param inputs the job's inputs
   * @param otherJobInputs inputs of another job of the same model (used by {@link
   *     #REPLAYED_OUTPUT}; should differ from {@code inputs})
   * @param random the cheat's own randomness (noise, random outputs)
   */
  public WorkerClaim claim(OnnxModel model, NamedTensors inputs, NamedTensors otherJobInputs,
      Random random) {
    return cheat(model, inputs, runTraced(model, inputs, null), otherJobInputs, random);
  }

  /** As {@link #claim}, given the honest execution of the job already computed. */
  public WorkerClaim claim(OnnxModel model, NamedTensors inputs, Execution honest,
      NamedTensors otherJobInputs, Random random) {
    return cheat(model, inputs, honest, otherJobInputs, random);
  }

  abstract WorkerClaim cheat(OnnxModel model, NamedTensors inputs, Execution honest,
      NamedTensors other, Random random);

  static Execution runTraced(OnnxModel model, NamedTensors inputs,
      CanonicalExecutor.StepTamper tamper) {
    try (CanonicalExecutor ex = CanonicalExecutor.create(model)) {
      return ex.execute(inputs, true, tamper);
    }
  }

  /** Swaps the largest and second largest element of every row (last axis). */
  static Tensor flipTop(Tensor t) {
    float[] f = t.toFloats();
    long[] shape = t.shape();
    int width = shape.length == 0 ? 1 : (int) shape[shape.length - 1];
    for (int row = 0; row + width <= f.length && width > 0; row += width) {
      if (width == 1) {
        f[row] = f[row] + 1f;
        continue;
      }
      int top = row;
      for (int i = row + 1; i < row + width; i++) {
        if (f[i] > f[top]) {
          top = i;
        }
      }
      int second = top == row ? row + 1 : row;
      for (int i = row; i < row + width; i++) {
        if (i != top && f[i] > f[second]) {
          second = i;
        }
      }
      float x = f[top];
      f[top] = f[second];
      f[second] = x;
      if (f[top] == f[second]) {
        f[second] = Math.nextUp(f[second]); // a tie: make the other class win
      }
    }
    return Tensor.ofFloats(shape, f);
  }

  /** The model with its largest float initializer multiplied elementwise by (1 + 1e-3 N(0,1)). */
  static OnnxModel perturbed(OnnxModel model, Random random) {
    OnnxGraph g = model.graph();
    OnnxTensorData largest = null;
    for (OnnxTensorData t : g.initializers()) {
      if (t.elementType() == dev.verity.onnx.ElementType.FLOAT
          && (largest == null || t.elementCount() > largest.elementCount())) {
        largest = t;
      }
    }
    if (largest == null) {
      throw new IllegalArgumentException("the model has no float weights to perturb");
    }
    float[] w = largest.floats();
    for (int i = 0; i < w.length; i++) {
      w[i] = w[i] * (1f + 1e-3f * (float) random.nextGaussian());
    }
    List<OnnxTensorData> inits = new ArrayList<>();
    for (OnnxTensorData t : g.initializers()) {
      inits.add(t == largest ? OnnxTensorData.ofFloats(t.name(), t.dims(), w) : t);
    }
    OnnxGraph pg = new OnnxGraph(g.name(), g.nodes(), inits, g.inputs(), g.outputs(),
        g.valueInfo());
    return new OnnxModel(model.irVersion(), model.opsetImports(), model.producerName(),
        model.producerVersion(), model.domain(), model.modelVersion(), model.docString(), pg,
        model.metadata());
  }

  /**
   * A cheaper model with the original's first input and its outputs: the input flattened, one
   * random linear layer per output, reshaped to the output's shape.
   */
  static OnnxModel cheaperModel(OnnxModel model, NamedTensors outputs, NamedTensors inputs,
      Random random) {
    OnnxValueInfo in = model.realInputs().get(0);
    Tensor x = inputs.get(in.name());
    long batch = x.shape()[0];
    int features = (int) (x.elementCount() / batch);
    OnnxModel.Builder b = OnnxModel.builder().input(in);
    b.node("Flatten", List.of(in.name()), List.of("cheap_flat"), OnnxAttribute.ofInt("axis", 1));
    for (OnnxValueInfo o : model.outputs()) {
      Tensor t = outputs.get(o.name());
      int width = (int) (t.elementCount() / batch);
      b.output(o);
      b.initializer("cheap_w_" + o.name(), new long[] {features, width},
          Fixtures.gauss(random, features * width, 0.1f));
      b.initializer("cheap_shape_" + o.name(), new long[] {t.shape().length}, t.shape());
      b.node("Gemm", List.of("cheap_flat", "cheap_w_" + o.name()), List.of("cheap_y_" + o.name()));
      b.node("Reshape", List.of("cheap_y_" + o.name(), "cheap_shape_" + o.name()),
          List.of(o.name()));
    }
    return b.build();
  }
}
