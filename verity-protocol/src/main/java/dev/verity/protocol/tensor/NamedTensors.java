package dev.verity.protocol.tensor;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The inputs or outputs of one inference: tensors by name. Its canonical encoding is a CBOR map from
 * name to {"type", "shape", "data"} (data: little-endian bytes, or an array of text for strings), and
 * its {@link #cid()} is the dag-cbor CID of that encoding. Receipts name inputs and outputs by these
 * CIDs, so the same tensors give the same CID whether they travelled as JSON or as .npy.
 */
public final class NamedTensors {
  private final SortedMap<String, Tensor> tensors;

  private NamedTensors(SortedMap<String, Tensor> tensors) {
    this.tensors = Collections.unmodifiableSortedMap(tensors);
  }

  public static NamedTensors of(Map<String, Tensor> tensors) {
    TreeMap<String, Tensor> sorted = new TreeMap<>(CborValue.Map.KEY_ORDER);
    for (var e : tensors.entrySet()) {
      if (e.getKey() == null || e.getKey().isEmpty() || e.getKey().length() > 256) {
        throw new DecodingException("tensor names must have 1 to 256 characters");
      }
      Tensor.requireWellFormed(e.getKey(), "tensor name");
      sorted.put(e.getKey(), java.util.Objects.requireNonNull(e.getValue(), e.getKey()));
    }
    return new NamedTensors(sorted);
  }

  public static NamedTensors of(String name, Tensor tensor) {
    return of(Map.of(name, tensor));
  }

  public SortedMap<String, Tensor> asMap() {
    return tensors;
  }

  public Tensor get(String name) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new DecodingException("no tensor named '" + name + "'; have " + tensors.keySet());
    }
    return t;
  }

  public Set<String> names() {
    return tensors.keySet();
  }

  public int size() {
    return tensors.size();
  }

  public long totalBytes() {
    long n = 0;
    for (Tensor t : tensors.values()) {
      n += t.byteSize();
    }
    return n;
  }

  public byte[] canonicalBytes() {
    return Cbor.encode(toCbor());
  }

  /** The content identifier receipts use for these tensors. */
  public Cid cid() {
    return Cid.dagCbor(canonicalBytes());
  }

  public CborValue.Map toCbor() {
    CborValue.Map.Builder b = CborValue.Map.builder();
    for (var e : tensors.entrySet()) {
      Tensor t = e.getValue();
      List<CborValue> shape = new ArrayList<>();
      for (long d : t.shape()) {
        shape.add(new CborValue.Int(d));
      }
      CborValue data =
          t.type() == ElementType.STRING
              ? new CborValue.Array(t.strings().stream().map(s -> (CborValue) new CborValue.Text(s)).toList())
              : new CborValue.Bytes(t.bytes());
      b.put(
          e.getKey(),
          CborValue.Map.builder()
              .put("type", t.type().wireName())
              .put("shape", new CborValue.Array(shape))
              .put("data", data)
              .build());
    }
    return b.build();
  }

  public static NamedTensors fromCanonicalBytes(byte[] bytes) {
    return fromCbor(Cbor.decodeMap(bytes));
  }

  public static NamedTensors fromCbor(CborValue.Map m) {
    TreeMap<String, Tensor> out = new TreeMap<>(CborValue.Map.KEY_ORDER);
    for (var e : m.entries().entrySet()) {
      if (!(e.getValue() instanceof CborValue.Map tm)) {
        throw new DecodingException("tensor '" + e.getKey() + "' must be a map");
      }
      tm.requireOnly(Set.of("type", "shape", "data"));
      ElementType type = ElementType.fromWireName(tm.getText("type"));
      List<CborValue> dims = tm.getArray("shape");
      long[] shape = new long[dims.size()];
      for (int i = 0; i < shape.length; i++) {
        if (!(dims.get(i) instanceof CborValue.Int d)) {
          throw new DecodingException("shape of '" + e.getKey() + "' must hold integers");
        }
        shape[i] = d.value();
      }
      Tensor t =
          type == ElementType.STRING
              ? Tensor.ofStrings(shape, tm.getTextList("data"))
              : Tensor.adoptBytes(type, shape, tm.getBytes("data"));
      out.put(e.getKey(), t);
    }
    return of(out);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NamedTensors n && tensors.equals(n.tensors);
  }

  @Override
  public int hashCode() {
    return tensors.hashCode();
  }

  @Override
  public String toString() {
    return tensors.toString();
  }
}
