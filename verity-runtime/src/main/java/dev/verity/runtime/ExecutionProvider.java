package dev.verity.runtime;

/** The hardware backend an engine runs a model on. */
public enum ExecutionProvider {
  CPU("cpu"),
  CUDA("cuda");

  private final String wireName;

  ExecutionProvider(String wireName) {
    this.wireName = wireName;
  }

  /** The name written into receipts and configuration files: "cpu" or "cuda". */
  public String wireName() {
    return wireName;
  }

  public static ExecutionProvider fromWireName(String name) {
    for (ExecutionProvider p : values()) {
      if (p.wireName.equals(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown execution provider '" + name + "'; expected cpu or cuda");
  }
}
