package dev.verity.onnx;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.verity.core.DecodingException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Calibration statistics of a model: the largest absolute value each tensor took over a set of
 * calibration examples, measured with {@link ReferenceInference}. The model's input is measured per
 * channel (dimension 1: the feature of a [N, F] input, the channel of an [N, C, H, W] image); every
 * other value as one number. Quantizers choose fixed-point scales from these ranges.
 *
 * <p>Ranges travel inside the ONNX file they describe, as the metadata property {@value
 * #METADATA_KEY}, so that they are covered by the model's content identifier and everyone who
 * holds the file derives the same quantized model. The property holds JSON:
 *
 * <pre>{"v": 1, "examples": 455, "ranges": {"features": [28.1, 39.3, ...], "fc1": [7.93], ...}}</pre>
 *
 * with names in sorted order and numbers as Java writes doubles (shortest form that reads back to
 * the same value). Decoding is strict: any other field, a negative, non-finite or missing number,
 * or an empty list is a {@link DecodingException}. Immutable.
 */
public final class ActivationRanges {
  /** The ONNX metadata property that carries a model's ranges. */
  public static final String METADATA_KEY = "verity.calibration";
  /** Format version of the property. */
  public static final int VERSION = 1;
  private static final int MAX_VALUES = 1 << 20;
  private static final JsonFactory JSON = new JsonFactory();

  private final int examples;
  private final SortedMap<String, double[]> ranges;

  private ActivationRanges(int examples, SortedMap<String, double[]> ranges) {
    this.examples = examples;
    this.ranges = ranges;
  }

  /**
   * Runs the model on every example (each the values of one input row, batch 1, row-major) and
   * records the ranges of the input (per channel) and of every value its nodes compute.
   *
   * @throws IllegalArgumentException if the model cannot be evaluated ({@link ReferenceInference})
   *     or there are no examples
   */
  public static ActivationRanges measure(OnnxModel model, List<float[]> examples) {
    if (examples.isEmpty()) {
      throw new IllegalArgumentException("calibration needs at least one example");
    }
    ReferenceInference ref = ReferenceInference.of(model);
    String input = ref.input().name();
    long[] dims = ref.inputDims();
    int channels = dims.length > 1 ? (int) dims[1] : 1;
    int perChannel = (int) (OnnxTensorData.elementCount(dims) / channels);
    Map<String, double[]> out = new LinkedHashMap<>();
    for (float[] example : examples) {
      Map<String, ReferenceInference.Values> values = ref.run(example);
      for (Map.Entry<String, ReferenceInference.Values> e : values.entrySet()) {
        double[] r;
        if (e.getKey().equals(input)) {
          r = out.computeIfAbsent(input, k -> new double[channels]);
          double[] x = e.getValue().data();
          for (int i = 0; i < x.length; i++) {
            r[i / perChannel] = Math.max(r[i / perChannel], Math.abs(x[i]));
          }
        } else {
          r = out.computeIfAbsent(e.getKey(), k -> new double[1]);
          r[0] = Math.max(r[0], e.getValue().maxAbs());
        }
      }
    }
    for (Map.Entry<String, double[]> e : out.entrySet()) {
      for (double v : e.getValue()) {
        if (!Double.isFinite(v)) {
          throw new IllegalArgumentException("value '" + e.getKey() + "' is not finite on the calibration examples");
        }
      }
    }
    return new ActivationRanges(examples.size(), new TreeMap<>(out));
  }

  /** The ranges a model carries in its metadata, if it has any. */
  public static Optional<ActivationRanges> of(OnnxModel model) {
    String json = model.metadata().get(METADATA_KEY);
    return json == null ? Optional.empty() : Optional.of(fromJson(json));
  }

  /** The model with these ranges as its {@value #METADATA_KEY} property (replacing any there). */
  public OnnxModel embedIn(OnnxModel model) {
    Map<String, String> metadata = new LinkedHashMap<>(model.metadata());
    metadata.put(METADATA_KEY, toJson());
    return new OnnxModel(model.irVersion(), model.opsetImports(), model.producerName(), model.producerVersion(),
        model.domain(), model.modelVersion(), model.docString(), model.graph(), metadata);
  }

  /** How many examples were measured. */
  public int examples() {
    return examples;
  }

  /** The range of a value (one number, or one per channel for the input), if measured. */
  public Optional<double[]> range(String value) {
    double[] r = ranges.get(value);
    return r == null ? Optional.empty() : Optional.of(r.clone());
  }

  /** The names of the measured values, sorted. */
  public List<String> names() {
    return Collections.unmodifiableList(new ArrayList<>(ranges.keySet()));
  }

  public String toJson() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeNumberField("v", VERSION);
      g.writeNumberField("examples", examples);
      g.writeObjectFieldStart("ranges");
      for (Map.Entry<String, double[]> e : ranges.entrySet()) {
        g.writeArrayFieldStart(e.getKey());
        for (double v : e.getValue()) {
          g.writeNumber(v);
        }
        g.writeEndArray();
      }
      g.writeEndObject();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** Strict decoding of {@link #toJson()}. */
  public static ActivationRanges fromJson(String json) {
    Objects.requireNonNull(json);
    try (JsonParser p = JSON.createParser(json)) {
      expect(p.nextToken() == JsonToken.START_OBJECT, "must be a JSON object");
      Integer v = null;
      Integer examples = null;
      SortedMap<String, double[]> ranges = null;
      int values = 0;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        switch (field) {
          case "v" -> {
            expect(v == null && t == JsonToken.VALUE_NUMBER_INT && p.getLongValue() == VERSION, "'v' must be " + VERSION);
            v = VERSION;
          }
          case "examples" -> {
            expect(examples == null && t == JsonToken.VALUE_NUMBER_INT && p.getLongValue() >= 1
                && p.getLongValue() <= Integer.MAX_VALUE, "'examples' must be a positive integer");
            examples = p.getIntValue();
          }
          case "ranges" -> {
            expect(ranges == null && t == JsonToken.START_OBJECT, "'ranges' must be an object");
            ranges = new TreeMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String name = p.currentName();
              expect(!name.isEmpty() && !ranges.containsKey(name), "value names must be non-empty and distinct");
              expect(p.nextToken() == JsonToken.START_ARRAY, "range of '" + name + "' must be an array");
              List<Double> r = new ArrayList<>();
              for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                expect(e == JsonToken.VALUE_NUMBER_FLOAT || e == JsonToken.VALUE_NUMBER_INT, "range of '" + name + "' must hold numbers");
                double d = p.getDoubleValue();
                expect(Double.isFinite(d) && d >= 0, "range of '" + name + "' must hold finite non-negative numbers");
                expect(++values <= MAX_VALUES, "more than " + MAX_VALUES + " numbers");
                r.add(d);
              }
              expect(!r.isEmpty(), "range of '" + name + "' is empty");
              ranges.put(name, r.stream().mapToDouble(Double::doubleValue).toArray());
            }
          }
          default -> throw new DecodingException("unknown field '" + field + "'");
        }
      }
      expect(p.nextToken() == null, "unexpected content after the object");
      expect(v != null && examples != null && ranges != null, "needs 'v', 'examples' and 'ranges'");
      return new ActivationRanges(examples, ranges);
    } catch (IOException e) {
      throw new DecodingException("calibration metadata '" + METADATA_KEY + "' is not valid JSON: " + e.getMessage(), e);
    }
  }

  private static void expect(boolean ok, String what) {
    if (!ok) {
      throw new DecodingException("calibration metadata '" + METADATA_KEY + "' " + what);
    }
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ActivationRanges r) || r.examples != examples || !r.ranges.keySet().equals(ranges.keySet())) {
      return false;
    }
    for (Map.Entry<String, double[]> e : ranges.entrySet()) {
      if (!java.util.Arrays.equals(e.getValue(), r.ranges.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    return Objects.hash(examples, ranges.keySet());
  }

  @Override
  public String toString() {
    return "ActivationRanges[" + ranges.size() + " values over " + examples + " examples]";
  }
}
