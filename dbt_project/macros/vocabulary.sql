{#- Generated from boostqa/vocabulary.py by `make vocabulary`: do not edit by hand. -#}
{% macro vocabulary(name) -%}
    {%- set vocabularies = {
        'ingest_quarantine_reason': ['invalid_utf8', 'unparseable_row', 'unknown_columns', 'missing_question', 'missing_answer', 'missing_language', 'missing_license', 'wrong_type', 'text_too_long', 'invalid_options', 'invalid_value', 'duplicate_source_row_id', 'duplicate_content', 'benchmark_contaminated'],
        'language': ['en', 'zh'],
        'llm_role': ['annotator', 'generator', 'refiner', 'solver'],
        'corpus': ['boostqa', 'general'],
        'annotation_reject_reason': ['invalid_output', 'llm_rejected', 'truncated'],
        'synthesis_strategy': ['multi_grade', 'high_difficulty'],
        'synthesis_reject_reason': ['invalid_output', 'verify_invalid', 'difficulty_degraded', 'refine_invalid', 'refine_disagreement', 'refine_unresolved', 'llm_rejected', 'truncated', 'solved_too_often', 'solve_invalid'],
        'refine_decision': ['agreed', 'kept_refined', 'confirmed_by_second_sample'],
        'qc_step': ['filter', 'decontaminate', 'exact_dedup', 'near_dedup'],
        'qc_filter_reason': ['missing_answer', 'malformed_options', 'length_out_of_bounds', 'reasoning_leftover', 'template_leftover', 'prompt_injection', 'refusal', 'hedging', 'language_mismatch', 'repeated_ngrams'],
        'qc_reason': ['missing_answer', 'malformed_options', 'length_out_of_bounds', 'reasoning_leftover', 'template_leftover', 'prompt_injection', 'refusal', 'hedging', 'language_mismatch', 'repeated_ngrams', 'benchmark_contaminated', 'exact_duplicate', 'near_duplicate'],
    } -%}
    {%- if name not in vocabularies -%}
        {{ exceptions.raise_compiler_error('unknown vocabulary ' ~ name ~ '; known: ' ~ vocabularies.keys() | join(', ')) }}
    {%- endif -%}
    {{ return(vocabularies[name]) }}
{%- endmacro %}
