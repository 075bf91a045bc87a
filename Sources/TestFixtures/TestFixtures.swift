// Test fixtures: see RegistryServer.swift, ImagePusher.swift, TarBuilder.swift.
