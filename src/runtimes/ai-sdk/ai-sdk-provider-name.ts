/**
 * AI SDK provider ids (the part before the first dot, or the whole id) → `gen_ai.provider.name`
 * of the OpenTelemetry GenAI conventions, for the providers the conventions name. Vertex comes
 * first: 'google.vertex.chat' and 'vertex.anthropic.messages' are Google Cloud's Vertex AI.
 */
const WELL_KNOWN: Array<[RegExp, string]> = [
  [/^(?:google\.vertex|vertex)(?:\.|$)/, 'gcp.vertex_ai'],
  [/^google(?:\.|$)/, 'gcp.gemini'],
  [/^anthropic(?:\.|$)/, 'anthropic'],
  [/^(?:amazon-bedrock|bedrock)(?:\.|$)/, 'aws.bedrock'],
  [/^azure(?:\.|$)/, 'azure.ai.openai'],
  [/^openai(?:\.|$)/, 'openai'],
  [/^mistral(?:\.|$)/, 'mistral_ai'],
  [/^groq(?:\.|$)/, 'groq'],
  [/^xai(?:\.|$)/, 'x_ai'],
  [/^deepseek(?:\.|$)/, 'deepseek'],
  [/^cohere(?:\.|$)/, 'cohere'],
  [/^perplexity(?:\.|$)/, 'perplexity'],
];

/** The `gen_ai.provider.name` of an AI SDK model: a well-known name, else the model's provider id. */
export function genAiProviderName(provider: string): string {
  for (const [pattern, name] of WELL_KNOWN) if (pattern.test(provider)) return name;
  return provider;
}
