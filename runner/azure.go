package runner

import (
	"strings"

	"github.com/sashabaranov/go-openai"

	"github.com/evald/evald/configs"
)

// clientConfig is the go-openai configuration of t's platform: an
// OpenAI-compatible endpoint (a bearer key, BASE/chat/completions), or
// Azure OpenAI (provider: azure; the key in the api-key header, requests
// to BASE/openai/deployments/DEPLOYMENT/chat/completions?api-version=V),
// which go-openai speaks given its Azure configuration. Errors, retries,
// usage and identity are the same on both.
func clientConfig(t configs.Target, apiKey string) openai.ClientConfig {
	base := strings.TrimRight(t.BaseURL, "/")
	if t.Provider != configs.ProviderAzure {
		cfg := openai.DefaultConfig(apiKey)
		cfg.BaseURL = base
		return cfg
	}
	cfg := openai.DefaultAzureConfig(apiKey, base)
	cfg.APIVersion = t.APIVersion
	if cfg.APIVersion == "" {
		cfg.APIVersion = configs.DefaultAzureAPIVersion
	}
	deployment := t.Deployment
	if deployment == "" {
		deployment = t.Model
	}
	cfg.AzureModelMapperFunc = func(string) string { return deployment }
	return cfg
}
