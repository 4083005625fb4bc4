package dev.verity.zk;

import dev.verity.core.DecodingException;
import dev.verity.core.cbor.CborValue;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * The public structure of a quantized network: input shape and layers, without weights. Everything
 * a verifier needs to know about a model besides its weight commitment.
 *
 * <p>Activations (the input, and every rescaled value) are int16: a proof checks that each lies in
 * [-2^15, 2^15).
 *
 * <p>Validated on construction: every layer reads existing tensors with fitting shapes; pooling
 * reads even heights and widths and leaves at least 8 padded values per tensor; dense,
 * convolution, pooling and add layers read tensors that proofs commit to (the input, a rescaling
 * or a max pooling); the output of a dense, convolution, sum pooling or add layer is read by
 * exactly one rescaling, or is the network's output; every tensor but the last is consumed.
 */
public final class Architecture {
  /** Activations are signed integers of this many bits. */
  public static final int ACTIVATION_BITS = 16;
  /** Largest rescaling shift. */
  public static final int MAX_SHIFT = 24;
  /** Upper bound on layers, so hostile encodings cannot request unbounded work. */
  public static final int MAX_LAYERS = 256;
  /** Upper bound on the padded size of all tensors together. */
  public static final long MAX_TOTAL_SIZE = 1L << 25;

  private final List<Layer> layers;
  private final List<Shape> shapes;

  /** Validates and derives every tensor's shape. */
  public Architecture(Shape input, List<Layer> layers) {
    if (layers.isEmpty() || layers.size() > MAX_LAYERS) {
      throw new IllegalArgumentException("a model needs 1.." + MAX_LAYERS + " layers, got " + layers.size());
    }
    this.layers = Collections.unmodifiableList(new ArrayList<>(layers));
    List<Shape> s = deriveShapes(input, layers);
    int[] uses = new int[s.size()];
    for (Layer l : layers) {
      for (int t : l.inputs()) {
        uses[t]++;
      }
    }
    for (int t = 0; t < s.size() - 1; t++) {
      if (uses[t] == 0) {
        throw new IllegalArgumentException("tensor " + t + " is never used; only the last tensor may be the output");
      }
    }
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      int t = i + 1;
      if (!(l instanceof Layer.Requant) && !(l instanceof Layer.MaxPool) && t != s.size() - 1) {
        boolean rescaled = uses[t] == 1;
        for (Layer reader : layers) {
          for (int in : reader.inputs()) {
            if (in == t && !(reader instanceof Layer.Requant)) {
              rescaled = false;
            }
          }
        }
        if (!rescaled) {
          throw new IllegalArgumentException(
              "the output of layer " + i + " must be read by exactly one requant (or be the network output)");
        }
      }
    }
    long total = 0;
    for (Shape sh : s) {
      total += sh.paddedSize();
    }
    if (total > MAX_TOTAL_SIZE) {
      throw new IllegalArgumentException("model tensors total " + total + " padded values, more than " + MAX_TOTAL_SIZE);
    }
    this.shapes = Collections.unmodifiableList(s);
  }

  /** Every tensor's shape, validating each layer against what it reads. */
  static List<Shape> deriveShapes(Shape input, List<Layer> layers) {
    List<Shape> s = new ArrayList<>();
    List<Boolean> committed = new ArrayList<>();
    s.add(input);
    committed.add(true);
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      for (int t : l.inputs()) {
        if (t < 0 || t > i) {
          throw new IllegalArgumentException("layer " + i + " reads tensor " + t + ", but only tensors 0.." + i + " exist");
        }
        if (!(l instanceof Layer.Requant) && !committed.get(t)) {
          throw new IllegalArgumentException(
              "layer " + i + " reads tensor " + t + ", which is not rescaled; add a requant between them");
        }
      }
      s.add(outputShape(l, s, committed, i));
      committed.add(l instanceof Layer.Requant || l instanceof Layer.MaxPool);
    }
    return s;
  }

  private static Shape outputShape(Layer l, List<Shape> s, List<Boolean> committed, int i) {
    return switch (l) {
      case Layer.Dense d -> {
        if (d.outputs() < 1) {
          throw new IllegalArgumentException("dense layer " + i + " needs at least one output");
        }
        yield Shape.vector(d.outputs());
      }
      case Layer.Conv2d c -> {
        Shape in = s.get(c.input());
        if (c.outChannels() < 1 || c.kernel() < 1 || c.stride() < 1 || c.padding() < 0 || c.padding() >= c.kernel()) {
          throw new IllegalArgumentException(
              "convolution " + i + " needs positive channels, kernel and stride, and 0 <= padding < kernel");
        }
        if (in.height() + 2 * c.padding() < c.kernel() || in.width() + 2 * c.padding() < c.kernel()) {
          throw new IllegalArgumentException("kernel of convolution " + i + " is larger than its padded input " + in);
        }
        int oh = (in.height() + 2 * c.padding() - c.kernel()) / c.stride() + 1;
        int ow = (in.width() + 2 * c.padding() - c.kernel()) / c.stride() + 1;
        yield new Shape(c.outChannels(), oh, ow);
      }
      case Layer.Requant r -> {
        if (r.shift() < 0 || r.shift() > MAX_SHIFT) {
          throw new IllegalArgumentException(
              "shift of layer " + i + " must be 0.." + MAX_SHIFT + ", got " + r.shift());
        }
        yield s.get(r.input());
      }
      case Layer.MaxPool m -> pooled(s.get(m.input()), i);
      case Layer.SumPool p -> pooled(s.get(p.input()), i);
      case Layer.Add a -> {
        if (!s.get(a.left()).equals(s.get(a.right()))) {
          throw new IllegalArgumentException(
              "add " + i + " cannot add tensors of shapes " + s.get(a.left()) + " and " + s.get(a.right()));
        }
        yield s.get(a.left());
      }
    };
  }

  private static Shape pooled(Shape in, int i) {
    if (in.height() % 2 != 0 || in.width() % 2 != 0) {
      throw new IllegalArgumentException("2x2 pooling " + i + " needs even height and width, got " + in);
    }
    Shape out = new Shape(in.channels(), in.height() / 2, in.width() / 2);
    if (out.logChannels() != in.logChannels()) {
      throw new IllegalArgumentException(
          "2x2 pooling " + i + " of " + in + " leaves fewer than 8 values; pool a larger tensor");
    }
    return out;
  }

  public List<Layer> layers() {
    return layers;
  }

  /** The shape of tensor t (0 is the input, layer i produces tensor i + 1). */
  public Shape shape(int tensor) {
    return shapes.get(tensor);
  }

  public int tensorCount() {
    return shapes.size();
  }

  public Shape inputShape() {
    return shapes.get(0);
  }

  public Shape outputShape() {
    return shapes.get(shapes.size() - 1);
  }

  public int outputTensor() {
    return shapes.size() - 1;
  }

  /** The layer producing tensor t (t >= 1). */
  public Layer producer(int tensor) {
    return layers.get(tensor - 1);
  }

  /** Canonical CBOR form. */
  public CborValue toCbor() {
    List<CborValue> ls = new ArrayList<>();
    for (Layer l : layers) {
      CborValue.Map.Builder b = CborValue.Map.builder();
      switch (l) {
        case Layer.Dense d -> b.put("op", "dense").put("in", d.input()).put("out", d.outputs());
        case Layer.Conv2d c ->
            b.put("op", "conv2d").put("in", c.input()).put("out", c.outChannels()).put("k", c.kernel())
                .put("stride", c.stride()).put("pad", c.padding());
        case Layer.Requant r ->
            b.put("op", "requant").put("in", r.input()).put("shift", r.shift()).put("relu", r.relu());
        case Layer.MaxPool m -> b.put("op", "maxpool").put("in", m.input());
        case Layer.SumPool p -> b.put("op", "sumpool").put("in", p.input());
        case Layer.Add a -> b.put("op", "add").put("a", a.left()).put("b", a.right());
      }
      ls.add(b.build());
    }
    Shape in = inputShape();
    return CborValue.Map.builder()
        .put("input", ints(in.channels(), in.height(), in.width()))
        .put("layers", new CborValue.Array(ls))
        .build();
  }

  private static CborValue ints(long... xs) {
    List<CborValue> out = new ArrayList<>();
    for (long x : xs) {
      out.add(new CborValue.Int(x));
    }
    return new CborValue.Array(out);
  }

  /** Strict decoding; every structural rule is re-checked. */
  public static Architecture fromCbor(CborValue value) {
    if (!(value instanceof CborValue.Map m)) {
      throw new DecodingException("architecture must be a map");
    }
    m.requireOnly(Set.of("input", "layers"));
    List<CborValue> in = m.getArray("input");
    if (in.size() != 3) {
      throw new DecodingException("input shape must have three dimensions");
    }
    List<CborValue> ls = m.getArray("layers");
    if (ls.size() > MAX_LAYERS) {
      throw new DecodingException("too many layers: " + ls.size());
    }
    List<Layer> layers = new ArrayList<>();
    try {
      Shape input = new Shape(intOf(in.get(0)), intOf(in.get(1)), intOf(in.get(2)));
      for (CborValue v : ls) {
        if (!(v instanceof CborValue.Map l)) {
          throw new DecodingException("each layer must be a map");
        }
        String op = l.getText("op");
        layers.add(
            switch (op) {
              case "dense" -> {
                l.requireOnly(Set.of("op", "in", "out"));
                yield new Layer.Dense(l.getInt("in"), l.getInt("out"));
              }
              case "conv2d" -> {
                l.requireOnly(Set.of("op", "in", "out", "k", "stride", "pad"));
                yield new Layer.Conv2d(l.getInt("in"), l.getInt("out"), l.getInt("k"), l.getInt("stride"), l.getInt("pad"));
              }
              case "requant" -> {
                l.requireOnly(Set.of("op", "in", "shift", "relu"));
                yield new Layer.Requant(l.getInt("in"), l.getInt("shift"), l.getBool("relu"));
              }
              case "maxpool" -> {
                l.requireOnly(Set.of("op", "in"));
                yield new Layer.MaxPool(l.getInt("in"));
              }
              case "sumpool" -> {
                l.requireOnly(Set.of("op", "in"));
                yield new Layer.SumPool(l.getInt("in"));
              }
              case "add" -> {
                l.requireOnly(Set.of("op", "a", "b"));
                yield new Layer.Add(l.getInt("a"), l.getInt("b"));
              }
              default -> throw new DecodingException("unknown layer type '" + op + "'");
            });
      }
      return new Architecture(input, layers);
    } catch (DecodingException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new DecodingException("invalid architecture: " + e.getMessage(), e);
    }
  }

  private static int intOf(CborValue v) {
    if (v instanceof CborValue.Int i && i.value() >= 0 && i.value() <= Integer.MAX_VALUE) {
      return (int) i.value();
    }
    throw new DecodingException("expected a non-negative integer");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Architecture a && layers.equals(a.layers) && shapes.get(0).equals(a.shapes.get(0));
  }

  @Override
  public int hashCode() {
    return 31 * layers.hashCode() + shapes.get(0).hashCode();
  }
}
