package dev.verity.protocol.tensor;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.io.NumberInput;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import dev.verity.core.DecodingException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tensors as JSON, for small inputs and outputs:
 *
 * <pre>{"features": {"type": "float32", "shape": [1, 30], "data": [0.1, 2.5, ...]}}</pre>
 *
 * {@code data} is the flat row-major list of elements: numbers, booleans or strings. Float values are
 * written in the shortest form that reads back to the same value, and parsed with correct rounding
 * to the target type, so a JSON round trip is exact. Non-finite floats travel as the strings "NaN",
 * "Infinity" and "-Infinity". Parsing is streaming and enforces {@link TensorLimits} as it goes.
 */
public final class TensorJson {
  private static final JsonFactory FACTORY =
      dev.verity.protocol.JsonFactories.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder().maxNestingDepth(16).maxStringLength(1 << 20).build())
          .build();

  private TensorJson() {}

  public static NamedTensors read(InputStream in, TensorLimits limits) throws IOException {
    try (JsonParser p = FACTORY.createParser(in)) {
      p.nextToken();
      NamedTensors t = readObject(p, limits);
      if (p.nextToken() != null) {
        throw new DecodingException("unexpected content after the tensors object");
      }
      return t;
    } catch (StreamConstraintsException e) {
      throw new DecodingException("JSON exceeds limits: " + e.getOriginalMessage(), e);
    } catch (JsonProcessingException e) {
      throw new DecodingException("invalid JSON: " + e.getOriginalMessage(), e);
    }
  }

  public static NamedTensors read(byte[] json, TensorLimits limits) {
    try {
      return read(new java.io.ByteArrayInputStream(json), limits);
    } catch (IOException e) {
      throw new DecodingException("invalid JSON: " + e.getMessage(), e);
    }
  }

  /** Reads a tensors object at the parser's current token (which must be START_OBJECT). */
  public static NamedTensors readObject(JsonParser p, TensorLimits limits) throws IOException {
    expect(p.currentToken(), JsonToken.START_OBJECT, "tensors must be a JSON object of name -> tensor");
    Map<String, Tensor> out = new LinkedHashMap<>();
    long total = 0;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      if (out.containsKey(name)) {
        throw new DecodingException("tensor '" + name + "' appears twice");
      }
      limits.checkCount(out.size() + 1);
      p.nextToken();
      Tensor t = readTensor(p, name, limits, total);
      total += t.byteSize();
      limits.checkTotal(total);
      out.put(name, t);
    }
    return NamedTensors.of(out);
  }

  /** Reads one tensor; {@code total} is the data bytes of the tensors read before it. */
  private static Tensor readTensor(JsonParser p, String name, TensorLimits limits, long total) throws IOException {
    expect(p.currentToken(), JsonToken.START_OBJECT, "tensor '" + name + "' must be an object with type, shape and data");
    ElementType type = null;
    long[] shape = null;
    TokenBuffer pendingData = null;
    Tensor result = null;
    java.util.Set<String> seen = new java.util.HashSet<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      if (!seen.add(field)) {
        throw new DecodingException("tensor '" + name + "' has field '" + field + "' twice");
      }
      p.nextToken();
      switch (field) {
        case "type" -> {
          expect(p.currentToken(), JsonToken.VALUE_STRING, "'type' of tensor '" + name + "' must be a string");
          type = ElementType.fromWireName(p.getText());
        }
        case "shape" -> shape = readShape(p, name, limits);
        case "data" -> {
          if (type != null && shape != null) {
            result = readData(p, name, type, shape, limits, total);
          } else {
            pendingData = new TokenBuffer(p);
            pendingData.copyCurrentStructure(p);
          }
        }
        default -> throw new DecodingException("tensor '" + name + "' has unknown field '" + field + "'");
      }
    }
    if (type == null || shape == null || (result == null && pendingData == null)) {
      throw new DecodingException("tensor '" + name + "' needs 'type', 'shape' and 'data'");
    }
    if (result == null) {
      try (JsonParser replay = pendingData.asParser()) {
        replay.nextToken();
        result = readData(replay, name, type, shape, limits, total);
      }
    }
    return result;
  }

  private static long[] readShape(JsonParser p, String name, TensorLimits limits) throws IOException {
    expect(p.currentToken(), JsonToken.START_ARRAY, "'shape' of tensor '" + name + "' must be an array");
    List<Long> dims = new ArrayList<>();
    while (p.nextToken() != JsonToken.END_ARRAY) {
      if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
        throw new DecodingException("'shape' of tensor '" + name + "' must hold whole numbers");
      }
      if (dims.size() >= TensorSpec.MAX_RANK) {
        throw new DecodingException("tensor '" + name + "' has more than " + TensorSpec.MAX_RANK + " axes");
      }
      dims.add(p.getLongValue());
    }
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    long count;
    try {
      count = Tensor.elementCount(shape);
    } catch (DecodingException e) {
      throw new DecodingException("'shape' of tensor '" + name + "': " + e.getMessage(), e);
    }
    limits.checkElements(name, count);
    return shape;
  }

  /**
   * Reads the data array. The byte limit is checked against the shape before anything is
   * allocated, and the buffer grows with the elements actually present, so a small document that
   * claims a large shape costs no more memory than its own size.
   */
  private static Tensor readData(JsonParser p, String name, ElementType type, long[] shape,
      TensorLimits limits, long total) throws IOException {
    expect(p.currentToken(), JsonToken.START_ARRAY, "'data' of tensor '" + name + "' must be a flat array");
    int n = (int) Tensor.elementCount(shape);
    if (type == ElementType.STRING) {
      List<String> values = new ArrayList<>(Math.min(n, 1 << 16));
      long bytes = 0;
      while (p.nextToken() != JsonToken.END_ARRAY) {
        if (p.currentToken() != JsonToken.VALUE_STRING) {
          throw new DecodingException("'data' of string tensor '" + name + "' must hold strings");
        }
        checkCount(values.size() + 1, n, name);
        String v = p.getText();
        bytes += java.nio.charset.StandardCharsets.UTF_8.encode(v).remaining();
        limits.checkTotal(total + bytes);
        values.add(v);
      }
      checkExact(values.size(), n, name);
      return Tensor.ofStrings(shape, values);
    }
    long need = (long) n * type.byteSize();
    limits.checkTotal(total + need);
    if (need > Integer.MAX_VALUE - 8) {
      throw new DecodingException("tensor '" + name + "' needs " + need + " bytes, more than one tensor can hold");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(need, 1 << 16)).order(ByteOrder.LITTLE_ENDIAN);
    int count = 0;
    while (p.nextToken() != JsonToken.END_ARRAY) {
      checkCount(++count, n, name);
      if (buf.remaining() < type.byteSize()) {
        buf = grow(buf, need);
      }
      JsonToken tok = p.currentToken();
      switch (type) {
        case FLOAT32 -> buf.putFloat((float) parseFloat(p, tok, name, true));
        case FLOAT64 -> buf.putDouble(parseFloat(p, tok, name, false));
        case BOOL -> {
          if (tok != JsonToken.VALUE_TRUE && tok != JsonToken.VALUE_FALSE) {
            throw new DecodingException("'data' of bool tensor '" + name + "' must hold true/false");
          }
          buf.put((byte) (tok == JsonToken.VALUE_TRUE ? 1 : 0));
        }
        default -> {
          long v = integer(p, tok, name);
          switch (type) {
            case INT8 -> buf.put((byte) checkRange(v, Byte.MIN_VALUE, Byte.MAX_VALUE, name));
            case UINT8 -> buf.put((byte) checkRange(v, 0, 255, name));
            case INT16 -> buf.putShort((short) checkRange(v, Short.MIN_VALUE, Short.MAX_VALUE, name));
            case INT32 -> buf.putInt((int) checkRange(v, Integer.MIN_VALUE, Integer.MAX_VALUE, name));
            case INT64 -> buf.putLong(v);
            default -> throw new AssertionError(type);
          }
        }
      }
    }
    checkExact(count, n, name);
    byte[] bytes = buf.array().length == need ? buf.array() : java.util.Arrays.copyOf(buf.array(), (int) need);
    return Tensor.adoptBytes(type, shape, bytes);
  }

  /** A buffer with the same content and twice the room, at most {@code max} bytes. */
  private static ByteBuffer grow(ByteBuffer buf, long max) {
    int capacity = (int) Math.min(max, Math.max(16L, 2L * buf.capacity()));
    ByteBuffer bigger = ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    bigger.put(buf.array(), 0, buf.position());
    return bigger;
  }

  /**
   * One float element, correctly rounded to float32 ({@code single}) or float64. A number is parsed
   * from the parser's own character buffer, without making a string of it (at thousands of
   * elements per request that garbage was most of what a node allocated); only the strings "NaN",
   * "Infinity" and "-Infinity" stand for non-finite values, and digits that overflow are refused.
   */
  private static double parseFloat(JsonParser p, JsonToken tok, String name, boolean single) throws IOException {
    double v;
    if (tok == JsonToken.VALUE_NUMBER_FLOAT || tok == JsonToken.VALUE_NUMBER_INT) {
      char[] chars = p.getTextCharacters();
      int offset = p.getTextOffset();
      int length = p.getTextLength();
      try {
        v = single ? NumberInput.parseFloat(chars, offset, length, true)
            : NumberInput.parseDouble(chars, offset, length, true);
      } catch (NumberFormatException e) {
        throw new DecodingException("value " + new String(chars, offset, Math.min(length, 40)) + " in tensor '" + name
            + "' is not a number");
      }
      if (Double.isInfinite(v)) {
        throw new DecodingException("value " + new String(chars, offset, Math.min(length, 40)) + " in tensor '" + name
            + "' is out of range for " + (single ? "float32" : "float64"));
      }
      return v;
    }
    if (tok == JsonToken.VALUE_STRING) {
      switch (p.getText()) {
        case "NaN" -> {
          return Double.NaN;
        }
        case "Infinity" -> {
          return Double.POSITIVE_INFINITY;
        }
        case "-Infinity" -> {
          return Double.NEGATIVE_INFINITY;
        }
        default -> {
          // refused below
        }
      }
    }
    throw new DecodingException("'data' of float tensor '" + name + "' must hold numbers");
  }

  private static long integer(JsonParser p, JsonToken tok, String name) throws IOException {
    if (tok != JsonToken.VALUE_NUMBER_INT) {
      throw new DecodingException("'data' of integer tensor '" + name + "' must hold whole numbers");
    }
    if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      throw new DecodingException("value out of range in tensor '" + name + "'");
    }
    return p.getLongValue();
  }

  private static long checkRange(long v, long min, long max, String name) {
    if (v < min || v > max) {
      throw new DecodingException("value " + v + " out of range in tensor '" + name + "'");
    }
    return v;
  }

  private static void checkCount(int count, int expected, String name) {
    if (count > expected) {
      throw new DecodingException("tensor '" + name + "' has more elements than its shape allows (" + expected + ")");
    }
  }

  private static void checkExact(int count, int expected, String name) {
    if (count != expected) {
      throw new DecodingException("tensor '" + name + "' has " + count + " elements; its shape needs " + expected);
    }
  }

  private static void expect(JsonToken actual, JsonToken expected, String message) {
    if (actual != expected) {
      throw new DecodingException(message);
    }
  }

  public static void write(NamedTensors tensors, OutputStream out) throws IOException {
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
      writeObject(g, tensors);
    }
  }

  public static byte[] toBytes(NamedTensors tensors) {
    var out = new java.io.ByteArrayOutputStream();
    try {
      write(tensors, out);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Writes the tensors object with the generator (for embedding in larger JSON documents). */
  public static void writeObject(JsonGenerator g, NamedTensors tensors) throws IOException {
    g.writeStartObject();
    for (var e : tensors.asMap().entrySet()) {
      Tensor t = e.getValue();
      g.writeObjectFieldStart(e.getKey());
      g.writeStringField("type", t.type().wireName());
      g.writeArrayFieldStart("shape");
      for (long d : t.shape()) {
        g.writeNumber(d);
      }
      g.writeEndArray();
      g.writeArrayFieldStart("data");
      writeData(g, t);
      g.writeEndArray();
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  private static void writeData(JsonGenerator g, Tensor t) throws IOException {
    if (t.type() == ElementType.STRING) {
      for (String s : t.strings()) {
        g.writeString(s);
      }
      return;
    }
    ByteBuffer b = t.buffer();
    int n = (int) t.elementCount();
    for (int i = 0; i < n; i++) {
      switch (t.type()) {
        case FLOAT32 -> {
          float f = b.getFloat(i * 4);
          if (Float.isFinite(f)) {
            g.writeNumber(Float.toString(f));
          } else {
            g.writeString(nonFinite(f));
          }
        }
        case FLOAT64 -> {
          double d = b.getDouble(i * 8);
          if (Double.isFinite(d)) {
            g.writeNumber(Double.toString(d));
          } else {
            g.writeString(nonFinite(d));
          }
        }
        case BOOL -> g.writeBoolean(b.get(i) != 0);
        case INT8 -> g.writeNumber(b.get(i));
        case UINT8 -> g.writeNumber(b.get(i) & 0xff);
        case INT16 -> g.writeNumber(b.getShort(i * 2));
        case INT32 -> g.writeNumber(b.getInt(i * 4));
        case INT64 -> g.writeNumber(b.getLong(i * 8));
        case STRING -> throw new AssertionError("handled above");
      }
    }
  }

  private static String nonFinite(double v) {
    return Double.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  }
}
