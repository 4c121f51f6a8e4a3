-- What a mixture version (or a slice of it) adds, from each anneal probe: the candidate arm against its control (the
-- same base, the same tokens, the reference mix alone), one row per benchmark and one per discipline x difficulty
-- bucket. delta is signed so that above 0 means the candidate data helped: a benchmark's primary metric of the
-- candidate minus the control's; a bucket's held-out BoostQA loss of the control minus the candidate's (token-weighted
-- over the bucket's held-out items). candidate_items counts the slice's items of the bucket the candidate trained on.
with

arms as (

    select * from {{ ref('stg_studies__anneal_arms') }}

),

probes as (

    select
        candidate.probe_run_id,
        candidate.mixture_version,
        candidate.reference_version,
        candidate.slice_discipline,
        candidate.slice_difficulty,
        candidate.slice_strategy,
        candidate.base_model,
        candidate.candidate_share,
        candidate.tokens,
        candidate.eval_model_id as candidate_model_id,
        control.eval_model_id as control_model_id

    from arms as candidate
    inner join arms as control
        on candidate.probe_run_id = control.probe_run_id
        and control.arm = 'control'
    where candidate.arm = 'candidate'

),

scores as (

    select * from {{ ref('fct_eval_scores') }}

),

benchmark_rows as (

    select
        probes.*,
        'benchmark' as attribution_kind,
        candidate.benchmark,
        cast(null as varchar) as discipline_id,
        cast(null as integer) as difficulty,
        candidate.metric,
        candidate.metric_value as candidate_value,
        control.metric_value as control_value,
        candidate.metric_value - control.metric_value as raw_delta,
        sqrt(candidate.metric_stderr ^ 2 + control.metric_stderr ^ 2) as delta_stderr,
        least(candidate.items, control.items) as measured,
        cast(null as bigint) as candidate_items

    from probes
    inner join scores as candidate on candidate.model_id = probes.candidate_model_id
    inner join scores as control
        on control.model_id = probes.control_model_id
        and control.benchmark = candidate.benchmark

),

documents as (

    select * from {{ ref('stg_studies__anneal_documents') }}

),

heldout as (

    select
        probe_run_id,
        arm,
        discipline_id,
        difficulty,
        sum(loss_after * tokens) / sum(tokens) as loss_after,
        count(*) as documents

    from documents
    where use = 'heldout' and heldout_set = 'boostqa'
    group by all

),

trained as (

    select probe_run_id, discipline_id, difficulty, count(*) as candidate_items
    from documents
    where use = 'trained'
    group by all

),

bucket_rows as (

    select
        probes.*,
        'bucket' as attribution_kind,
        cast(null as varchar) as benchmark,
        candidate.discipline_id,
        candidate.difficulty,
        'heldout_loss' as metric,
        candidate.loss_after as candidate_value,
        control.loss_after as control_value,
        control.loss_after - candidate.loss_after as raw_delta,
        cast(null as double) as delta_stderr,
        candidate.documents as measured,
        coalesce(trained.candidate_items, 0) as candidate_items

    from probes
    inner join heldout as candidate
        on candidate.probe_run_id = probes.probe_run_id
        and candidate.arm = 'candidate'
    inner join heldout as control
        on control.probe_run_id = probes.probe_run_id
        and control.arm = 'control'
        and control.discipline_id is not distinct from candidate.discipline_id
        and control.difficulty is not distinct from candidate.difficulty
    left join trained
        on trained.probe_run_id = probes.probe_run_id
        and trained.discipline_id is not distinct from candidate.discipline_id
        and trained.difficulty is not distinct from candidate.difficulty

),

unioned as (

    select * from benchmark_rows
    union all by name
    select * from bucket_rows

),

final as (

    select
        probe_run_id,
        mixture_version,
        reference_version,
        slice_discipline,
        slice_difficulty,
        slice_strategy,
        base_model,
        candidate_share,
        tokens,
        attribution_kind,
        benchmark,
        discipline_id,
        difficulty,
        metric,
        candidate_value,
        control_value,
        round(raw_delta, 6) + 0.0 as delta,  -- + 0.0: no -0.0
        round(delta_stderr, 6) as delta_stderr,
        -- an interval of two standard errors: a benchmark delta inside it is noise (buckets have no stderr)
        case when delta_stderr is not null then abs(raw_delta) <= 2 * delta_stderr end as within_noise,
        cast(measured as bigint) as measured,
        candidate_items

    from unioned

)

select * from final
