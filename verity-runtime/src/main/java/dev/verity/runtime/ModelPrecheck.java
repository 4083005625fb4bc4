package dev.verity.runtime;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Walks the protobuf structure of an ONNX model before the runtime sees it and refuses files that
 * would make it misbehave: malformed wire format, no graph, tensors that keep their data in
 * external files (a model could name any file on the host), tensors declaring more elements than
 * the file could possibly hold (the runtime would allocate for them before noticing), and graphs
 * nested absurdly deep.
 *
 * <p>Only the messages that can carry tensors are visited: ModelProto, GraphProto, NodeProto,
 * AttributeProto, FunctionProto, SparseTensorProto and TensorProto. Everything else is skipped by
 * length, with bounds checked.
 */
final class ModelPrecheck {
  /** ONNX protobuf files cannot exceed 2 GiB. */
  static final long MAX_MODEL_BYTES = Integer.MAX_VALUE;

  static final int MAX_GRAPH_DEPTH = 32;

  private final ByteBuffer b;
  private final String what;
  /** Each stored element takes at least half a byte (4-bit types), so no tensor may declare more. */
  private final long maxStoredElements;

  private ModelPrecheck(ByteBuffer b, String what) {
    this.b = b;
    this.what = what;
    this.maxStoredElements = 2L * b.limit() + 16;
  }

  /**
   * Checks a whole model.
   *
   * @param model the model bytes, from position 0 to the limit
   * @param what a description of the source for messages
   * @throws ModelLoadException saying what is wrong
   */
  static void check(ByteBuffer model, String what) {
    new ModelPrecheck(model, what).model();
  }

  private interface FieldVisitor {
    /** {@code value} holds a varint; {@code start..end} the bytes of a length-delimited field. */
    void field(int number, int wireType, long value, int start, int end);
  }

  private void model() {
    if (b.limit() == 0) {
      throw fail("the file is empty");
    }
    boolean[] sawGraph = {false};
    fields(0, b.limit(), (n, wt, v, s, e) -> {
      if (n == 7 && wt == 2) {
        sawGraph[0] = true;
        graph(s, e, 0);
      } else if (n == 25 && wt == 2) {
        function(s, e, 0);
      }
    });
    if (!sawGraph[0]) {
      throw fail("it has no graph, so it is not an ONNX model");
    }
  }

  private void graph(int start, int end, int depth) {
    if (depth > MAX_GRAPH_DEPTH) {
      throw fail("subgraphs are nested more than " + MAX_GRAPH_DEPTH + " deep");
    }
    fields(start, end, (n, wt, v, s, e) -> {
      if (wt != 2) {
        return;
      }
      switch (n) {
        case 1 -> node(s, e, depth);
        case 5 -> tensor(s, e);
        case 15 -> sparseTensor(s, e);
        default -> { }
      }
    });
  }

  private void function(int start, int end, int depth) {
    fields(start, end, (n, wt, v, s, e) -> {
      if (n == 7 && wt == 2) {
        node(s, e, depth + 1);
      }
    });
  }

  private void node(int start, int end, int depth) {
    fields(start, end, (n, wt, v, s, e) -> {
      if (n == 5 && wt == 2) {
        attribute(s, e, depth);
      }
    });
  }

  private void attribute(int start, int end, int depth) {
    fields(start, end, (n, wt, v, s, e) -> {
      if (wt != 2) {
        return;
      }
      switch (n) {
        case 5, 10 -> tensor(s, e);
        case 6, 11 -> graph(s, e, depth + 1);
        case 22, 23 -> sparseTensor(s, e);
        default -> { }
      }
    });
  }

  private void sparseTensor(int start, int end) {
    fields(start, end, (n, wt, v, s, e) -> {
      if ((n == 1 || n == 2) && wt == 2) {
        tensor(s, e);
      } else if (n == 3) {
        dims(wt, v, s, e, new long[] {1}, "sparse tensor");
      }
    });
  }

  private void tensor(int start, int end) {
    long[] count = {1};
    String[] name = {""};
    boolean[] external = {false};
    fields(start, end, (n, wt, v, s, e) -> {
      switch (n) {
        case 1 -> dims(wt, v, s, e, count, "tensor");
        case 8 -> {
          if (wt == 2) {
            name[0] = text(s, e);
          }
        }
        case 13 -> external[0] = true;
        case 14 -> external[0] |= wt == 0 && v == 1;
        default -> { }
      }
    });
    String label = name[0].isEmpty() ? "a tensor" : "tensor '" + name[0] + "'";
    if (external[0]) {
      throw fail(label + " keeps its data in an external file; Verity loads self-contained"
          + " models only (save the model with its weights inside the .onnx file)");
    }
    if (count[0] > maxStoredElements) {
      throw fail(label + " declares " + count[0] + " elements, more than a file of " + b.limit()
          + " bytes can hold");
    }
  }

  /** Multiplies the dims of one field (packed or not) into {@code count[0]}, saturating. */
  private void dims(int wireType, long value, int start, int end, long[] count, String kind) {
    if (wireType == 0) {
      count[0] = times(count[0], value, kind);
    } else if (wireType == 2) {
      int p = start;
      while (p < end) {
        long[] out = new long[2];
        varint(p, end, out);
        count[0] = times(count[0], out[0], kind);
        p = (int) out[1];
      }
    } else {
      throw fail("a " + kind + " has dimensions of the wrong wire type");
    }
  }

  private long times(long count, long dim, String kind) {
    if (dim < 0) {
      throw fail("a " + kind + " declares a negative dimension " + dim);
    }
    if (dim != 0 && count > Long.MAX_VALUE / dim) {
      return Long.MAX_VALUE;
    }
    return count * dim;
  }

  private String text(int start, int end) {
    byte[] raw = new byte[Math.min(end - start, 200)];
    b.get(start, raw);
    return new String(raw, StandardCharsets.UTF_8);
  }

  private void fields(int start, int end, FieldVisitor visitor) {
    int p = start;
    long[] out = new long[2];
    while (p < end) {
      varint(p, end, out);
      long key = out[0];
      p = (int) out[1];
      int number = (int) (key >>> 3);
      int wireType = (int) (key & 7);
      if (number == 0 || key >>> 3 > 0x1fffffff) {
        throw malformed(p, "field number " + (key >>> 3));
      }
      switch (wireType) {
        case 0 -> {
          varint(p, end, out);
          p = (int) out[1];
          visitor.field(number, wireType, out[0], p, p);
        }
        case 1 -> p = skip(p, 8, end);
        case 5 -> p = skip(p, 4, end);
        case 2 -> {
          varint(p, end, out);
          p = (int) out[1];
          if (out[0] < 0 || out[0] > end - p) {
            throw malformed(p, "a field of " + out[0] + " bytes runs past the end of its message");
          }
          int valueEnd = p + (int) out[0];
          visitor.field(number, wireType, 0, p, valueEnd);
          p = valueEnd;
        }
        default -> throw malformed(p, "unsupported wire type " + wireType);
      }
    }
  }

  private int skip(int p, int n, int end) {
    if (end - p < n) {
      throw malformed(p, "a fixed-size field runs past the end of its message");
    }
    return p + n;
  }

  /** Reads a varint at {@code p}: out[0] its value, out[1] the position after it. */
  private void varint(int p, int end, long[] out) {
    long value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) {
        throw malformed(p, "a number runs past the end of its message");
      }
      byte x = b.get(p++);
      value |= (long) (x & 0x7f) << shift;
      if (x >= 0) {
        out[0] = value;
        out[1] = p;
        return;
      }
    }
    throw malformed(p, "a number is longer than 10 bytes");
  }

  private ModelLoadException malformed(int position, String detail) {
    return fail("it is not a well-formed ONNX protobuf (at byte " + position + ": " + detail
        + "); the file may be truncated or not an ONNX model");
  }

  private ModelLoadException fail(String reason) {
    return new ModelLoadException("cannot load " + what + ": " + reason);
  }
}
