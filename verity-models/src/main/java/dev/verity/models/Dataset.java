package dev.verity.models;

import dev.verity.core.DecodingException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPInputStream;

/**
 * A labelled data set held in memory: one feature row per example and its class. Loaded only from
 * the copies bundled in this module's resources.
 */
record Dataset(double[][] features, int[] labels, int classes) {

  int size() {
    return labels.length;
  }

  int width() {
    return features[0].length;
  }

  /** A held-out split: the first part for training, the rest for testing. */
  record Split(Dataset train, Dataset test) {}

  /**
   * Shuffles with a fixed seed (Fisher-Yates over {@link SplittableRandom}) and cuts at {@code
   * trainFraction}, so the same data and seed always give the same split.
   */
  Split split(long seed, double trainFraction) {
    int n = size();
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    int cut = (int) Math.round(n * trainFraction);
    return new Split(subset(order, 0, cut), subset(order, cut, n));
  }

  private Dataset subset(int[] order, int from, int to) {
    double[][] x = new double[to - from][];
    int[] y = new int[to - from];
    for (int i = from; i < to; i++) {
      x[i - from] = features[order[i]];
      y[i - from] = labels[order[i]];
    }
    return new Dataset(x, y, classes);
  }

  /** Wisconsin diagnostic breast cancer: 569 x 30 features, 0 = malignant, 1 = benign. */
  static Dataset breastCancer() {
    List<String> lines = lines("data/breast_cancer.csv", false);
    String[] header = lines.get(0).split(",");
    if (header.length < 2 || !header[0].equals("569") || !header[1].equals("30")) {
      throw new DecodingException("bundled breast_cancer.csv has an unexpected header");
    }
    return parse(lines.subList(1, lines.size()), 30, 2, "breast_cancer.csv");
  }

  /** Hand-written digits: 1797 images of 8 x 8 pixels with values 0..16, classes 0..9. */
  static Dataset digits() {
    return parse(lines("data/digits.csv.gz", true), 64, 10, "digits.csv.gz");
  }

  private static Dataset parse(List<String> rows, int width, int classes, String file) {
    double[][] x = new double[rows.size()][];
    int[] y = new int[rows.size()];
    for (int r = 0; r < rows.size(); r++) {
      String[] cells = rows.get(r).split(",");
      if (cells.length != width + 1) {
        throw new DecodingException(
            file + " row " + (r + 1) + " has " + cells.length + " columns, expected "
                + (width + 1));
      }
      x[r] = new double[width];
      try {
        for (int c = 0; c < width; c++) {
          x[r][c] = Double.parseDouble(cells[c]);
        }
        y[r] = (int) Double.parseDouble(cells[width]);
      } catch (NumberFormatException e) {
        throw new DecodingException(file + " row " + (r + 1) + " is not numeric", e);
      }
      if (y[r] < 0 || y[r] >= classes) {
        throw new DecodingException(file + " row " + (r + 1) + " has class " + y[r]);
      }
    }
    return new Dataset(x, y, classes);
  }

  private static List<String> lines(String resource, boolean gzip) {
    try (InputStream raw = Dataset.class.getResourceAsStream(resource)) {
      if (raw == null) {
        throw new IllegalStateException(
            "bundled data set " + resource + " is missing from the verity-models jar");
      }
      InputStream in = gzip ? new GZIPInputStream(raw) : raw;
      BufferedReader reader =
          new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
      List<String> out = new ArrayList<>();
      for (String line; (line = reader.readLine()) != null; ) {
        if (!line.isBlank()) {
          out.add(line.strip());
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read bundled data set " + resource, e);
    }
  }
}
