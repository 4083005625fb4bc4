package dev.verity.onnx;

import dev.verity.core.DecodingException;
import dev.verity.protocol.tensor.TensorSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A model's signature in Verity's terms: the {@link TensorSpec}s and opsets that a manifest
 * declares, derived from the ONNX file itself. Publishers and nodes both use this, so what an owner
 * signs and what a node checks are computed the same way.
 */
public final class ModelSignatures {
  private ModelSignatures() {}

  public static List<TensorSpec> inputs(OnnxModelInfo info) {
    return specs("input", info.inputs());
  }

  public static List<TensorSpec> outputs(OnnxModelInfo info) {
    return specs("output", info.outputs());
  }

  /** Opset versions by domain ("" is the standard ONNX domain). */
  public static SortedMap<String, Long> opsets(OnnxModelInfo info) {
    return new TreeMap<>(info.opsetImports());
  }

  private static List<TensorSpec> specs(String kind, List<OnnxValueInfo> values) {
    List<TensorSpec> out = new ArrayList<>();
    for (OnnxValueInfo v : values) {
      out.add(spec(kind, v));
    }
    return List.copyOf(out);
  }

  /**
   * The spec of one graph value.
   *
   * @throws DecodingException if Verity cannot carry the value: an element type outside {@link
   *     dev.verity.protocol.tensor.ElementType}, or no recorded shape
   */
  public static TensorSpec spec(String kind, OnnxValueInfo v) {
    if (!v.rankKnown()) {
      throw new DecodingException(kind + " '" + v.name() + "' has no declared shape; Verity needs at least its rank");
    }
    dev.verity.protocol.tensor.ElementType type;
    try {
      type = dev.verity.protocol.tensor.ElementType.fromOnnxCode(v.elementType().code());
    } catch (DecodingException e) {
      throw new DecodingException(kind + " '" + v.name() + "' has element type " + v.elementType()
          + ", which Verity cannot carry yet", e);
    }
    List<dev.verity.protocol.tensor.Dim> dims = new ArrayList<>();
    for (Dim d : v.dims()) {
      dims.add(switch (d) {
        case Dim.Fixed f -> dev.verity.protocol.tensor.Dim.fixed(f.size());
        case Dim.Symbolic s -> dev.verity.protocol.tensor.Dim.dynamic(s.name());
        case Dim.Unknown u -> dev.verity.protocol.tensor.Dim.dynamic("");
      });
    }
    return new TensorSpec(v.name(), type, dims);
  }
}
