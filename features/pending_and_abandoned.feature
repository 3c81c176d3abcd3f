Feature: Pending payments and abandoned bank pages
  As a shop owner switching card payments from TEST to REAL
  I want a payment the bank is still deciding, or one the customer walked away from, to be settled server-side
  So that nothing ships before the bank says paid, nothing is lost when the customer leaves, and a retry works

  @RC-06 @simulator @desktop
  Scenario Outline: A pending payment: processing page, the store says awaiting payment, the bank decides later
    Given the bank keeps a pending payment pending for 600 seconds
    And a customer shopping in the store on a desktop browser
    When the customer orders 1 "Duduk" and goes to pay
    And pays on the bank page with card "<card>"
    Then the customer sees the gateway's processing page
    And after a short wait the customer lands on the store's thank-you page showing "AWAITING_PAYMENT"
    And the Ecwid order is "AWAITING_PAYMENT"
    And Ecwid was never told PAID
    And nothing was sent to Ecwid about fulfillment
    And the bank order of the attempt has orderStatus 7 and actionCode -100
    When the bank's pending time passes
    Then the bank told the gateway "deposited" with status <paid>, and the gateway took it
    And the Ecwid order settles at "<final>" within 20 seconds
    And the bank order of the attempt has orderStatus <status> and actionCode <code>
    And the gateway has sent Ecwid the payment statuses "<sent>"
    And nothing was sent to Ecwid about fulfillment
    And the bank has 1 new order

    Examples:
      | card             | paid | final      | status | code | sent                         |
      | 4000000000007015 | 1    | PAID       | 2      | 0    | AWAITING_PAYMENT, PAID       |
      | 4000000000007023 | 0    | INCOMPLETE | 6      | 100  | AWAITING_PAYMENT, INCOMPLETE |

  @RC-04 @simulator @desktop
  Scenario Outline: A customer closes the tab on the <page>; the attempt expires at the bank and a later retry pays
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Apricot jam" and goes to pay
    And <before>
    And closes the tab
    And the bank session of the attempt runs out
    Then the bank order of the attempt has orderStatus 6 and actionCode -2007
    And the bank told the gateway "declinedByTimeout" with status 0, and the gateway took it
    And the Ecwid order settles at "INCOMPLETE" within 20 seconds
    And Ecwid was never told PAID
    When the customer comes back to the store later and pays with card "4242424242424242"
    Then the retry ends on the store's thank-you page
    And the retry's bank order has orderStatus 2 and actionCode 0
    And the Ecwid order settles at "PAID" within 20 seconds
    And the bank has 2 new orders

    Examples:
      | page            | before                                             |
      | bank page       | the customer is on the bank page                   |
      | 3-D Secure page | pays on the bank page with card "4000000000003220" |
