package dev.verity.protocol.tensor;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.DecodingException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import java.security.MessageDigest;
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
  /** Sets with at least this much data get their CID computed beside other work ({@link #cidInBackground}). */
  public static final long BACKGROUND_CID_BYTES = 64 * 1024;

  private final SortedMap<String, Tensor> tensors;
  /** The CID once computed: the tensors are immutable, so it never changes. */
  private volatile Cid cid;

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

  /**
   * The content identifier receipts use for these tensors: the dag-cbor CID of {@link
   * #canonicalBytes()}. The encoding is hashed piece by piece as it would be written, each tensor's
   * data straight from the tensor, so large tensors are hashed without being copied first. Computed
   * once per object: a second caller gets the first one's result, waiting for it if the first is
   * still hashing ({@link #cidInBackground}).
   */
  public Cid cid() {
    Cid c = cid;
    if (c == null) {
      synchronized (this) {
        c = cid;
        if (c == null) {
          c = computeCid();
          cid = c;
        }
      }
    }
    return c;
  }

  /**
   * Starts computing {@link #cid()} on a virtual thread when the set holds at least {@link
   * #BACKGROUND_CID_BYTES} of data, so that the hashing overlaps with what the caller does next
   * (running the model, waiting for the node); a later {@link #cid()} gets the result. Smaller sets
   * hash faster than a thread starts, and are left to {@link #cid()}.
   */
  public void cidInBackground() {
    if (cid == null && totalBytes() >= BACKGROUND_CID_BYTES) {
      Thread.ofVirtual().name("tensor-cid").start(this::cid);
    }
  }

  private Cid computeCid() {
    MessageDigest d = Hash.newDigest();
    d.update(header(MAJOR_MAP, tensors.size()));
    for (var e : tensors.entrySet()) {
      Tensor t = e.getValue();
      d.update(Cbor.encode(new CborValue.Text(e.getKey())));
      d.update(header(MAJOR_MAP, TENSOR_FIELDS.size()));
      for (String field : TENSOR_FIELDS) {
        d.update(Cbor.encode(new CborValue.Text(field)));
        switch (field) {
          case "type" -> d.update(Cbor.encode(new CborValue.Text(t.type().wireName())));
          case "shape" -> d.update(Cbor.encode(shape(t)));
          case "data" -> {
            if (t.type() == ElementType.STRING) {
              d.update(Cbor.encode(strings(t)));
            } else {
              byte[] data = t.data();
              d.update(header(MAJOR_BYTES, data.length));
              d.update(data);
            }
          }
          default -> throw new IllegalStateException(field);
        }
      }
    }
    return Cid.of(Cid.Codec.DAG_CBOR, Hash.fromDigest(d));
  }

  private static final int MAJOR_BYTES = 2;
  private static final int MAJOR_MAP = 5;
  /** The fields of one tensor's map, in canonical order. */
  private static final List<String> TENSOR_FIELDS =
      List.of("type", "shape", "data").stream().sorted(CborValue.Map.KEY_ORDER).toList();

  /**
   * The head of a CBOR item of major type {@code major} with argument {@code arg}: that of the
   * unsigned integer {@code arg} (major type 0) with the major type set in its first byte's top
   * three bits, the one place where the heads of the major types differ.
   */
  private static byte[] header(int major, long arg) {
    byte[] h = Cbor.encode(new CborValue.Int(arg));
    h[0] |= (byte) (major << 5);
    return h;
  }

  private static CborValue.Array shape(Tensor t) {
    List<CborValue> shape = new ArrayList<>();
    for (long d : t.shape()) {
      shape.add(new CborValue.Int(d));
    }
    return new CborValue.Array(shape);
  }

  private static CborValue.Array strings(Tensor t) {
    return new CborValue.Array(t.strings().stream().map(s -> (CborValue) new CborValue.Text(s)).toList());
  }

  public CborValue.Map toCbor() {
    CborValue.Map.Builder b = CborValue.Map.builder();
    for (var e : tensors.entrySet()) {
      Tensor t = e.getValue();
      CborValue data = t.type() == ElementType.STRING ? strings(t) : new CborValue.Bytes(t.data());
      b.put(
          e.getKey(),
          CborValue.Map.builder()
              .put("type", t.type().wireName())
              .put("shape", shape(t))
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
