-- The fitted trend of the scaling sweep: per sweep and base (one model size, one initial compute), the least-squares
-- line gain_boostqa = fit_intercept + fit_slope x ln(BoostQA tokens) over its volumes, and each point's residual.
-- A positive slope means the gain grows with the BoostQA tokens; comparing slopes across sizes and base budgets is
-- the paper's claim that the gain grows with model size and initial compute. One volume gives no line (nulls).
with

grid as (

    select * from {{ ref('fct_scaling_grid') }}
    where boostqa_tokens > 0

),

fits as (

    select
        sweep_run_id,
        base_id,
        count(*) as fit_points,
        case when count(distinct boostqa_tokens) > 1
            then regr_slope(gain_boostqa, ln(boostqa_tokens)) end as fit_slope,
        case when count(distinct boostqa_tokens) > 1
            then regr_intercept(gain_boostqa, ln(boostqa_tokens)) end as fit_intercept,
        case when count(distinct boostqa_tokens) > 2
            then regr_r2(gain_boostqa, ln(boostqa_tokens)) end as fit_r2

    from grid
    group by all

),

final as (

    select
        grid.sweep_run_id,
        grid.model_size,
        grid.base_id,
        grid.non_embedding_parameters,
        grid.base_tokens,
        grid.base_flops,
        grid.boostqa_tokens,
        round(ln(grid.boostqa_tokens), 6) as log_boostqa_tokens,
        grid.gain_boostqa,
        cast(fits.fit_points as integer) as fit_points,
        round(fits.fit_slope, 6) as fit_slope,
        round(fits.fit_intercept, 6) as fit_intercept,
        round(fits.fit_r2, 6) as fit_r2,
        round(fits.fit_intercept + fits.fit_slope * ln(grid.boostqa_tokens), 6) as fitted_gain,
        round(grid.gain_boostqa - (fits.fit_intercept + fits.fit_slope * ln(grid.boostqa_tokens)), 6)
            + 0.0 as residual  -- + 0.0: no -0.0

    from grid
    inner join fits
        on grid.sweep_run_id = fits.sweep_run_id
        and grid.base_id = fits.base_id

)

select * from final
