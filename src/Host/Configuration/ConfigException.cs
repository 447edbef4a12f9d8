namespace ActorFace.Host.Configuration;

/// <summary>A configuration problem; the message names the key and where its value came from.</summary>
public sealed class ConfigException(string message) : Exception(message);
