package dev.verity.onnx;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Generates varied, valid models from a seed, exercising every part of the format Verity keeps. */
final class RandomModels {
  private RandomModels() {}

  static OnnxModel generate(long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    OnnxModel.Builder b =
        OnnxModel.builder()
            .irVersion(3 + rnd.nextInt(8))
            .opset("", 1 + rnd.nextInt(22))
            .producer(word(rnd), rnd.nextBoolean() ? "" : "1." + rnd.nextInt(10))
            .graphName(rnd.nextBoolean() ? "" : word(rnd));
    if (rnd.nextBoolean()) {
      b.opset("com.example", 1 + rnd.nextInt(3));
    }
    if (rnd.nextBoolean()) {
      b.domain("org." + word(rnd)).modelVersion(rnd.nextLong(-5, 1000)).docString("doc é " + seed);
    }
    for (int i = rnd.nextInt(3); i > 0; i--) {
      b.metadata("k" + i, word(rnd));
    }
    List<String> defined = new ArrayList<>();
    int inputs = 1 + rnd.nextInt(3);
    for (int i = 0; i < inputs; i++) {
      String name = "in" + i;
      b.input(valueInfo(rnd, name));
      defined.add(name);
    }
    int inits = rnd.nextInt(4);
    for (int i = 0; i < inits; i++) {
      OnnxTensorData t = tensor(rnd, "w" + i);
      b.initializer(t);
      defined.add(t.name());
      if (rnd.nextInt(3) == 0) {
        b.input(OnnxValueInfo.tensor(t.name(), t.elementType(), dimsOf(t)));
      }
    }
    int nodes = 1 + rnd.nextInt(5);
    for (int i = 0; i < nodes; i++) {
      List<String> in = new ArrayList<>();
      for (int k = rnd.nextInt(4); k > 0; k--) {
        in.add(rnd.nextInt(6) == 0 ? "" : defined.get(rnd.nextInt(defined.size())));
      }
      String out = "v" + i;
      List<OnnxAttribute> attrs = new ArrayList<>();
      for (int k = rnd.nextInt(4); k > 0; k--) {
        attrs.add(attribute(rnd, "a" + k, 0));
      }
      String domain = rnd.nextInt(4) == 0 ? "com.example" : "";
      b.node(new OnnxNode(rnd.nextBoolean() ? "" : "n" + i, opType(rnd), domain, in,
          List.of(out), attrs));
      defined.add(out);
      if (rnd.nextInt(3) == 0) {
        b.valueInfo(valueInfo(rnd, out));
      }
    }
    int outs = Math.min(nodes, 1 + rnd.nextInt(2));
    for (int i = 0; i < outs; i++) {
      b.output(valueInfo(rnd, "v" + (nodes - 1 - i)));
    }
    return b.build();
  }

  private static Dim[] dimsOf(OnnxTensorData t) {
    long[] d = t.dims();
    Dim[] out = new Dim[d.length];
    for (int i = 0; i < d.length; i++) {
      out[i] = Dim.of(d[i]);
    }
    return out;
  }

  static String word(SplittableRandom rnd) {
    String[] words = {"alpha", "beta", "γάμμα", "delta", "x", "模型", "e-1", "f_2"};
    return words[rnd.nextInt(words.length)];
  }

  static String opType(SplittableRandom rnd) {
    String[] ops = {"Relu", "Add", "Gemm", "Conv", "Identity", "Custom", "MatMul"};
    return ops[rnd.nextInt(ops.length)];
  }

  static OnnxValueInfo valueInfo(SplittableRandom rnd, String name) {
    ElementType[] types = {ElementType.FLOAT, ElementType.INT64, ElementType.DOUBLE,
        ElementType.UINT8, ElementType.BOOL, ElementType.FLOAT16};
    ElementType type = types[rnd.nextInt(types.length)];
    if (rnd.nextInt(8) == 0) {
      return OnnxValueInfo.unknownRank(name, type);
    }
    Dim[] dims = new Dim[rnd.nextInt(5)];
    for (int i = 0; i < dims.length; i++) {
      int k = rnd.nextInt(5);
      dims[i] = k == 0 ? Dim.symbolic("N") : k == 1 ? Dim.unknown() : Dim.of(rnd.nextInt(64));
    }
    return OnnxValueInfo.tensor(name, type, dims);
  }

  static OnnxTensorData tensor(SplittableRandom rnd, String name) {
    long[] dims = new long[rnd.nextInt(4)];
    long count = 1;
    for (int i = 0; i < dims.length; i++) {
      dims[i] = rnd.nextInt(5);
      count *= dims[i];
    }
    int n = (int) count;
    switch (rnd.nextInt(7)) {
      case 0 -> {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] = (float) rnd.nextGaussian();
        }
        return OnnxTensorData.ofFloats(name, dims, f);
      }
      case 1 -> {
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
          l[i] = rnd.nextLong();
        }
        return OnnxTensorData.ofLongs(name, dims, l);
      }
      case 2 -> {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
          v[i] = rnd.nextInt();
        }
        return OnnxTensorData.ofInts(name, dims, v);
      }
      case 3 -> {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
          d[i] = rnd.nextDouble();
        }
        return OnnxTensorData.ofDoubles(name, dims, d);
      }
      case 4 -> {
        List<byte[]> s = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          s.add(word(rnd).getBytes(StandardCharsets.UTF_8));
        }
        return OnnxTensorData.ofStrings(name, dims, s);
      }
      case 5 -> {
        byte[] raw = new byte[(int) ElementType.INT4.rawByteLength(n)];
        rnd.nextBytes(raw);
        if (n % 2 == 1) {
          raw[raw.length - 1] &= 0x0F;
        }
        return OnnxTensorData.ofRaw(name, ElementType.INT4, dims, raw);
      }
      default -> {
        byte[] raw = new byte[n * 2];
        rnd.nextBytes(raw);
        return OnnxTensorData.ofRaw(name, ElementType.FLOAT16, dims, raw);
      }
    }
  }

  static OnnxAttribute attribute(SplittableRandom rnd, String name, int depth) {
    int kinds = depth < 2 ? 10 : 8;
    return switch (rnd.nextInt(kinds)) {
      case 0 -> OnnxAttribute.ofFloat(name, (float) rnd.nextGaussian());
      case 1 -> OnnxAttribute.ofInt(name, rnd.nextLong());
      case 2 -> OnnxAttribute.ofString(name, word(rnd));
      case 3 -> {
        float[] f = new float[rnd.nextInt(4)];
        for (int i = 0; i < f.length; i++) {
          f[i] = rnd.nextFloat();
        }
        yield OnnxAttribute.ofFloats(name, f);
      }
      case 4 -> OnnxAttribute.ofInts(name, rnd.longs(rnd.nextInt(5), -3, 1L << 40).toArray());
      case 5 -> OnnxAttribute.ofStrings(name, word(rnd), word(rnd));
      case 6 -> OnnxAttribute.ofTensor(name, tensor(rnd, rnd.nextBoolean() ? "" : "t"));
      case 7 -> OnnxAttribute.ofTensors(name, List.of(tensor(rnd, "a"), tensor(rnd, "b")));
      case 8 -> OnnxAttribute.ofGraph(name, subgraph(rnd, depth + 1));
      default -> OnnxAttribute.ofGraphs(name, List.of(subgraph(rnd, depth + 1)));
    };
  }

  /** A control-flow body: it may read values of the enclosing graph. */
  static OnnxGraph subgraph(SplittableRandom rnd, int depth) {
    List<OnnxAttribute> attrs = new ArrayList<>();
    if (rnd.nextBoolean()) {
      attrs.add(attribute(rnd, "inner", depth));
    }
    OnnxNode node = new OnnxNode("", rnd.nextBoolean() ? "Neg" : "Sub", "", List.of("outer"),
        List.of("y"), attrs);
    return new OnnxGraph("body", List.of(node), List.of(tensor(rnd, "c")), List.of(),
        List.of(valueInfo(rnd, "y")), List.of());
  }
}
