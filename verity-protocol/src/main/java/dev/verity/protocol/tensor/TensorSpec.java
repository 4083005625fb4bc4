package dev.verity.protocol.tensor;

import dev.verity.core.DecodingException;
import dev.verity.core.cbor.CborValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A model input or output as declared in its manifest: name, element type and shape, where each
 * axis is fixed or dynamic. {@link #check} tells a caller exactly how a tensor fails to fit.
 */
public record TensorSpec(String name, ElementType type, List<Dim> shape) {
  public static final int MAX_RANK = 16;

  public TensorSpec {
    if (name == null || name.isEmpty() || name.length() > 256) {
      throw new DecodingException("tensor name must have 1 to 256 characters");
    }
    java.util.Objects.requireNonNull(type, "type");
    if (shape.size() > MAX_RANK) {
      throw new DecodingException("tensor '" + name + "' has rank " + shape.size() + " > " + MAX_RANK);
    }
    shape = List.copyOf(shape);
  }

  /**
   * Checks that {@code t} can be fed as this input.
   *
   * @throws DecodingException naming the tensor, what it has and what the model expects
   */
  public void check(Tensor t) {
    check(t, "input");
  }

  /**
   * Checks that {@code t} fits this spec, naming it as {@code kind} ("input" or "output") in the
   * message.
   *
   * @throws DecodingException naming the tensor, what it has and what the model declares
   */
  public void check(Tensor t, String kind) {
    if (t.type() != type) {
      throw new DecodingException(
          kind + " '" + name + "' has type " + t.type().wireName() + ", model expects " + type.wireName());
    }
    long[] s = t.shape();
    boolean ok = s.length == shape.size();
    for (int i = 0; ok && i < s.length; i++) {
      ok = shape.get(i).accepts(s[i]);
    }
    if (!ok) {
      throw new DecodingException(
          kind + " '" + name + "' has shape " + java.util.Arrays.toString(s) + ", model expects " + shapeText());
    }
  }

  public String shapeText() {
    return shape.toString();
  }

  public CborValue.Map toCbor() {
    List<CborValue> dims = new ArrayList<>();
    for (Dim d : shape) {
      dims.add(d.isDynamic() ? new CborValue.Text(d.symbol()) : new CborValue.Int(d.size()));
    }
    return CborValue.Map.builder()
        .put("name", name)
        .put("type", type.wireName())
        .put("shape", new CborValue.Array(dims))
        .build();
  }

  public static TensorSpec fromCbor(CborValue.Map m) {
    m.requireOnly(Set.of("name", "type", "shape"));
    List<Dim> dims = new ArrayList<>();
    for (CborValue v : m.getArray("shape")) {
      switch (v) {
        case CborValue.Int i -> dims.add(Dim.fixed(i.value()));
        case CborValue.Text t -> dims.add(Dim.dynamic(t.value()));
        default -> throw new DecodingException("shape entries must be sizes or symbols");
      }
    }
    return new TensorSpec(m.getText("name"), ElementType.fromWireName(m.getText("type")), dims);
  }
}
