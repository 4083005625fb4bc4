package dev.verity.node;

import dev.verity.core.Cid;
import dev.verity.exec.CanonicalExecutor;
import dev.verity.exec.Execution;
import dev.verity.onnx.Dim;
import dev.verity.onnx.ElementType;
import dev.verity.onnx.OnnxAttribute;
import dev.verity.onnx.OnnxGraph;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxNode;
import dev.verity.onnx.OnnxTensorData;
import dev.verity.onnx.OnnxValueInfo;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * How a cheating worker computes what it commits to: each strategy wraps the node's honest engine
 * and returns a wrong {@link Execution} (outputs plus the trace it commits to), the way a real
 * operator cutting corners would: random or altered outputs, a cheaper or altered model, a skipped
 * layer, lower precision, a replayed answer. Every strategy is deterministic given the requests
 * (the worker replays its own run when it defends a dispute).
 */
enum Cheats {
  /** Commits the honest run: the control. */
  HONEST,
  /** Returns random outputs; commits the honest trace. */
  RANDOM_OUTPUT,
  /** Swaps the top class with the lowest one in every output; commits the honest trace. */
  FLIPPED_TOP_CLASS,
  /** Runs a far cheaper model (one Gemm) with the same signature. */
  CHEAPER_MODEL,
  /** Runs the model with one weight perturbed. */
  PERTURBED_WEIGHTS,
  /** Runs the model with one activation layer left out. */
  SKIPPED_LAYER,
  /** Runs the model with every weight rounded to float16. */
  LOWER_PRECISION,
  /** Answers every request with the first run it did for the model. */
  REPLAYED_OUTPUT;

  /**
   * This strategy as a node's engine of record.
   *
   * @param models the models the node may be asked to run, by model file CID
   */
  UnaryOperator<OptimisticEngine> worker(Map<Cid, OnnxModel> models) {
    Map<Cid, CanonicalExecutor> variants = new ConcurrentHashMap<>();
    Map<Cid, Execution> first = new ConcurrentHashMap<>();
    Function<Cid, CanonicalExecutor> variant = cid -> variants.computeIfAbsent(cid,
        k -> CanonicalExecutor.create(alter(this, models.get(k))));
    return honest -> (model, inputs) -> switch (this) {
      case HONEST -> honest.run(model, inputs);
      case RANDOM_OUTPUT -> {
        Execution e = honest.run(model, inputs);
        Random r = new Random(inputs.cid().digest().hashCode());
        yield new Execution(map(e.outputs(), v -> {
          for (int i = 0; i < v.length; i++) {
            v[i] = r.nextFloat();
          }
        }), e.trace());
      }
      case FLIPPED_TOP_CLASS -> {
        Execution e = honest.run(model, inputs);
        yield new Execution(map(e.outputs(), Cheats::swapTopWithBottom), e.trace());
      }
      case CHEAPER_MODEL, PERTURBED_WEIGHTS, SKIPPED_LAYER, LOWER_PRECISION -> variant.apply(model).runTraced(inputs);
      case REPLAYED_OUTPUT -> first.computeIfAbsent(model, k -> honest.run(model, inputs));
    };
  }

  /** The model this strategy runs instead of {@code m} (or {@code m}). */
  static OnnxModel alter(Cheats c, OnnxModel m) {
    OnnxGraph g = m.graph();
    return switch (c) {
      case CHEAPER_MODEL -> cheaper(m);
      case PERTURBED_WEIGHTS -> {
        List<OnnxTensorData> init = new ArrayList<>(g.initializers());
        for (int i = 0; i < init.size(); i++) {
          OnnxTensorData t = init.get(i);
          if (t.elementType() == ElementType.FLOAT && t.elementCount() > 0) {
            float[] v = t.floats();
            v[0] += 0.01f * (Math.abs(v[0]) + 1f);
            init.set(i, OnnxTensorData.ofFloats(t.name(), t.dims(), v));
            break;
          }
        }
        yield withGraph(m, new OnnxGraph(g.name(), g.nodes(), init, g.inputs(), g.outputs(), g.valueInfo()));
      }
      case LOWER_PRECISION -> {
        List<OnnxTensorData> init = new ArrayList<>();
        for (OnnxTensorData t : g.initializers()) {
          if (t.elementType() == ElementType.FLOAT) {
            float[] v = t.floats();
            for (int i = 0; i < v.length; i++) {
              v[i] = Float.float16ToFloat(Float.floatToFloat16(v[i]));
            }
            init.add(OnnxTensorData.ofFloats(t.name(), t.dims(), v));
          } else {
            init.add(t);
          }
        }
        yield withGraph(m, new OnnxGraph(g.name(), g.nodes(), init, g.inputs(), g.outputs(), g.valueInfo()));
      }
      case SKIPPED_LAYER -> {
        List<OnnxNode> nodes = new ArrayList<>(g.nodes());
        List<String> outs = g.outputs().stream().map(OnnxValueInfo::name).toList();
        for (int i = 0; i < nodes.size(); i++) {
          OnnxNode n = nodes.get(i);
          if (List.of("Relu", "LeakyRelu", "Sigmoid", "Tanh").contains(n.opType()) && !outs.contains(n.outputs().get(0))) {
            nodes.remove(i);
            String from = n.outputs().get(0);
            String to = n.inputs().get(0);
            for (int j = i; j < nodes.size(); j++) {
              OnnxNode c2 = nodes.get(j);
              nodes.set(j, new OnnxNode(c2.name(), c2.opType(), c2.domain(),
                  c2.inputs().stream().map(s -> s.equals(from) ? to : s).toList(), c2.outputs(), c2.attributes()));
            }
            break;
          }
        }
        yield withGraph(m, new OnnxGraph(g.name(), nodes, g.initializers(), g.inputs(), g.outputs(), g.valueInfo()));
      }
      default -> m;
    };
  }

  /** One Gemm from the flattened input to the output's classes, zero weights. */
  private static OnnxModel cheaper(OnnxModel m) {
    OnnxValueInfo in = m.realInputs().get(0);
    OnnxValueInfo out = m.outputs().get(0);
    long features = 1;
    for (int i = 1; i < in.dims().size(); i++) {
      features *= ((Dim.Fixed) in.dims().get(i)).size();
    }
    long classes = ((Dim.Fixed) out.dims().get(out.dims().size() - 1)).size();
    return OnnxModel.builder()
        .input(in)
        .output(out)
        .initializer("w", new long[] {features, classes}, new float[(int) (features * classes)])
        .initializer("b", new long[] {classes}, new float[(int) classes])
        .node("Flatten", List.of(in.name()), List.of("flat"), OnnxAttribute.ofInt("axis", 1))
        .node("Gemm", List.of("flat", "w", "b"), List.of(out.name()))
        .build();
  }

  private static OnnxModel withGraph(OnnxModel m, OnnxGraph g) {
    return new OnnxModel(m.irVersion(), m.opsetImports(), m.producerName(), m.producerVersion(), m.domain(),
        m.modelVersion(), m.docString(), g, m.metadata());
  }

  private interface FloatEdit {
    void apply(float[] v);
  }

  private static NamedTensors map(NamedTensors t, FloatEdit edit) {
    Map<String, Tensor> out = new TreeMap<>();
    for (String name : t.names()) {
      Tensor x = t.get(name);
      float[] v = x.toFloats().clone();
      edit.apply(v);
      out.put(name, Tensor.ofFloats(x.shape(), v));
    }
    return NamedTensors.of(out);
  }

  private static void swapTopWithBottom(float[] v) {
    int top = 0;
    int bottom = 0;
    for (int i = 1; i < v.length; i++) {
      top = v[i] > v[top] ? i : top;
      bottom = v[i] < v[bottom] ? i : bottom;
    }
    float t = v[top];
    v[top] = v[bottom];
    v[bottom] = t;
  }
}
