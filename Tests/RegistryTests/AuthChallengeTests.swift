import Registry
import Testing

struct AuthChallengeTests {
  @Test func bearerWithQuotedParameters() {
    let challenges = AuthChallenge.parse(
      #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#)
    #expect(challenges == [
      AuthChallenge(scheme: "bearer", parameters: [
        "realm": "https://auth.docker.io/token", "service": "registry.docker.io",
        "scope": "repository:library/busybox:pull",
      ])
    ])
  }

  @Test func schemeAndParameterNamesAreCaseInsensitive() {
    let challenge = AuthChallenge.parse(#"BEARER Realm="https://a/token", SERVICE=reg"#).first
    #expect(challenge?.scheme == "bearer")
    #expect(challenge?["realm"] == "https://a/token")
    #expect(challenge?["Service"] == "reg")
  }

  @Test func basicWithSpacesInTheRealm() {
    #expect(AuthChallenge.parse(#"Basic realm="Registry Realm""#) == [
      AuthChallenge(scheme: "basic", parameters: ["realm": "Registry Realm"])
    ])
  }

  @Test func quotedStringEscapes() {
    let challenge = AuthChallenge.parse(#"Bearer realm="a\"b\\c", service="x,y""#).first
    #expect(challenge?["realm"] == #"a"b\c"#)
    #expect(challenge?["service"] == "x,y")
  }

  @Test func severalChallengesInOneHeader() {
    let challenges = AuthChallenge.parse(#"Basic realm="basic", Bearer realm="https://t/token",service="s", error="invalid_token""#)
    #expect(challenges.map(\.scheme) == ["basic", "bearer"])
    #expect(challenges[0].parameters == ["realm": "basic"])
    #expect(challenges[1].parameters == ["realm": "https://t/token", "service": "s", "error": "invalid_token"])
  }

  @Test func severalHeaderValues() {
    let challenges = AuthChallenge.parse([#"Negotiate"#, #"Bearer realm="r""#])
    #expect(challenges == [AuthChallenge(scheme: "negotiate"), AuthChallenge(scheme: "bearer", parameters: ["realm": "r"])])
  }

  @Test func whitespaceAroundEqualsAndCommas() {
    let challenge = AuthChallenge.parse(#"Bearer   realm = "r" ,  service= "s" ,scope ="a:b:pull,push""#).first
    #expect(challenge?.parameters == ["realm": "r", "service": "s", "scope": "a:b:pull,push"])
  }

  @Test func emptyAndGarbageHeaders() {
    #expect(AuthChallenge.parse("").isEmpty)
    #expect(AuthChallenge.parse("  ,  ").isEmpty)
    // An unterminated quote keeps what was there.
    #expect(AuthChallenge.parse(#"Bearer realm="unterminated"#).first?["realm"] == "unterminated")
  }
}
