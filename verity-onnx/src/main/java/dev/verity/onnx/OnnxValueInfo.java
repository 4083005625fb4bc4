package dev.verity.onnx;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The declared name, element type and shape of a tensor value in an ONNX graph (a graph input,
 * output or annotated intermediate value). Verity handles tensor values only; sequences, maps and
 * other non-tensor types are rejected when they appear as graph inputs or outputs.
 *
 * @param name the value's name, non-empty
 * @param elementType the element type
 * @param dims the dimensions, outermost first; empty for a scalar or when the rank is unknown
 * @param rankKnown false when the model records no shape at all for this value (then {@code dims}
 *     is empty and says nothing)
 */
public record OnnxValueInfo(
    String name, ElementType elementType, List<Dim> dims, boolean rankKnown) {

  public OnnxValueInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(elementType, "elementType");
    dims = List.copyOf(dims);
    if (name.isEmpty()) {
      throw new IllegalArgumentException("a graph value needs a non-empty name");
    }
    if (!rankKnown && !dims.isEmpty()) {
      throw new IllegalArgumentException("a value of unknown rank has no dimensions");
    }
  }

  /** A tensor value of known rank. */
  public OnnxValueInfo(String name, ElementType elementType, List<Dim> dims) {
    this(name, elementType, dims, true);
  }

  /** A tensor value of known rank. */
  public static OnnxValueInfo tensor(String name, ElementType elementType, Dim... dims) {
    return new OnnxValueInfo(name, elementType, List.of(dims), true);
  }

  /** A tensor value whose shape the model does not record. */
  public static OnnxValueInfo unknownRank(String name, ElementType elementType) {
    return new OnnxValueInfo(name, elementType, List.of(), false);
  }

  /** Whether the rank is known and every dimension has a fixed size. */
  public boolean isFixedShape() {
    return rankKnown && dims.stream().allMatch(d -> d instanceof Dim.Fixed);
  }

  /** Renders as {@code name: FLOAT[N,30]}, or {@code name: FLOAT[*]} when the rank is unknown. */
  @Override
  public String toString() {
    String shape =
        rankKnown ? dims.stream().map(Dim::toString).collect(Collectors.joining(",")) : "*";
    return name + ": " + elementType + "[" + shape + "]";
  }
}
