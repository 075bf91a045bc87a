extension Duration {
  /// Whole and fractional seconds, for messages and metrics.
  public var seconds: Double {
    let (whole, attoseconds) = components
    return Double(whole) + Double(attoseconds) / 1e18
  }
}
