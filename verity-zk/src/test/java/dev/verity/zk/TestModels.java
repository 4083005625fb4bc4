package dev.verity.zk;

import dev.verity.core.Cid;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/** Small random networks for tests. */
final class TestModels {
  private TestModels() {}

  static Cid cid(String name) {
    return Cid.raw(name.getBytes(StandardCharsets.UTF_8));
  }

  static int[] weights(Random rnd, int n, int magnitude) {
    int[] w = new int[n];
    for (int i = 0; i < n; i++) {
      w[i] = rnd.nextInt(2 * magnitude + 1) - magnitude;
    }
    return w;
  }

  static long[] bias(Random rnd, int n, int magnitude) {
    long[] b = new long[n];
    for (int i = 0; i < n; i++) {
      b[i] = rnd.nextInt(2 * magnitude + 1) - magnitude;
    }
    return b;
  }

  static long[] input(Random rnd, int n, int bits) {
    long[] x = new long[n];
    long half = 1L << (bits - 1);
    for (int i = 0; i < n; i++) {
      x[i] = rnd.nextLong(2 * half) - half;
    }
    return x;
  }

  /** in -> hidden (ReLU) -> out, 8-bit activations. */
  static QuantizedModel mlp(long seed, int in, int hidden, int out) {
    Random rnd = new Random(seed);
    var b = QuantizedModel.builder(cid("mlp-" + seed), Shape.vector(in));
    int h = b.dense(0, hidden, weights(rnd, hidden * in, 15), bias(rnd, hidden, 100));
    h = b.requant(h, 8, true);
    int o = b.dense(h, out, weights(rnd, out * hidden, 15), bias(rnd, out, 100));
    b.requant(o, 8, false);
    return b.build();
  }

  /** A small CNN with every layer type: conv, relu, max pool, avg pool, add, dense. */
  static QuantizedModel cnn(long seed) {
    Random rnd = new Random(seed);
    var b = QuantizedModel.builder(cid("cnn-" + seed), new Shape(2, 8, 12));
    int c1 = b.conv2d(0, 3, 3, 1, 1, weights(rnd, 3 * 2 * 9, 10), bias(rnd, 3, 50));
    int r1 = b.requant(c1, 6, true);
    int p1 = b.maxPool(r1);
    int c2 = b.conv2d(p1, 3, 3, 1, 1, weights(rnd, 3 * 3 * 9, 10), bias(rnd, 3, 50));
    int r2 = b.requant(c2, 6, false);
    int sum = b.requant(b.add(r2, p1), 1, false);
    int avg = b.avgPool(sum);
    int d = b.dense(avg, 5, weights(rnd, 5 * 3 * 2 * 3, 10), bias(rnd, 5, 50));
    b.requant(d, 5, false);
    return b.build();
  }
}
