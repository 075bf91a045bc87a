/// Where this binary came from. The stored values are written at build time
/// by the BuildInfoPlugin (git commit, commit date, build day, compiler).
public enum BuildInfo {}
