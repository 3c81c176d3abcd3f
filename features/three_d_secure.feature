Feature: 3-D Secure at the card's issuer
  As a shop owner switching card payments from TEST to REAL
  I want every 3-D Secure outcome to end in the right Ecwid status with the right message for the customer
  So that an authenticated payment is PAID, a failed or unanswered one never is, and the customer can try again

  @RC-02 @simulator @desktop
  Scenario: A customer passes the 3-D Secure challenge and the order is paid
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Apricot jam" and goes to pay
    And pays on the bank page with card "4000000000003220"
    Then the customer is shown the issuer's 3-D Secure page
    When confirms the 3-D Secure challenge with the code "123456"
    Then the customer sees the store's thank-you page
    And the Ecwid order is "PAID"
    And Ecwid was set to PAID only after the bank confirmed the payment to the gateway
    And the bank order of the attempt has orderStatus 2 and actionCode 0
    And the bank recorded the ECI "05"
    And the bank told the gateway "deposited" with status 1, and the gateway took it
    And the bank has 1 new order

  @RC-03 @simulator @desktop
  Scenario Outline: A customer who fails the 3-D Secure challenge is back at checkout and another card succeeds
    Given a customer shopping in the store on a desktop browser in "<lang>"
    When the customer orders 1 "Gata" and goes to pay
    And pays on the bank page with card "<card>"
    Then the customer is shown the issuer's 3-D Secure page
    When <answer>
    Then the customer is back at checkout with the message "<message>"
    And the Ecwid order is "INCOMPLETE"
    And Ecwid was never told PAID
    And the bank order of the attempt has orderStatus 6 and actionCode -2006
    And the bank told the gateway "deposited" with status 0, and the gateway took it
    When the customer pays again with card "4242424242424242"
    Then the customer sees the store's thank-you page
    And the Ecwid order is "PAID"
    And the bank order of the attempt has orderStatus 2 and actionCode 0
    And the bank has 2 new orders

    Examples:
      | card             | answer                                                   | lang | message                         |
      | 4000000000003238 | confirms the 3-D Secure challenge with the code "123456" | en   | 3-D Secure verification failed  |
      | 4000000000003220 | fails the 3-D Secure challenge                           | en   | 3-D Secure verification failed  |
      | 4000000000003220 | fails the 3-D Secure challenge                           | ru   | Проверка 3-D Secure не пройдена |

  @RC-32 @simulator @desktop
  Scenario Outline: Each 3-D Secure outcome ends in the right state, message and ECI
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Lavash" and goes to pay
    And pays on the bank page with card "<card>"
    And meets the issuer's check: <check>
    Then the customer ends on the store's <where> with "<shown>"
    And the Ecwid order settles at "<ecwid>" within 20 seconds
    And the bank order of the attempt has orderStatus <status> and actionCode <code>
    And the bank recorded the ECI "<eci>"
    And the bank told the gateway "<operation>" with status <paid>, and the gateway took it
    And the gateway has sent Ecwid the payment statuses "<sent>"

    Examples:
      | outcome                | card             | check               | where          | shown                          | ecwid      | status | code  | eci  | operation         | paid | sent |
      | frictionless pass      | 4000000000003253 | none                | thank-you page | PAID                           | PAID       | 2      | 0     | 05   | deposited         | 1    | PAID |
      | frictionless fail      | 4000000000003261 | none                | checkout       | 3-D Secure verification failed | INCOMPLETE | 6      | -2006 | none | deposited         | 0    | none |
      | attempted              | 4000000000003279 | none                | thank-you page | PAID                           | PAID       | 2      | 0     | 06   | deposited         | 1    | PAID |
      | not enrolled           | 4000000000003287 | none                | thank-you page | PAID                           | PAID       | 2      | 0     | 07   | deposited         | 1    | PAID |
      | unavailable            | 4000000000003295 | none                | checkout       | Your card was declined         | INCOMPLETE | 6      | -2011 | none | deposited         | 0    | none |
      | challenge pass         | 4000000000003220 | challenge passed    | thank-you page | PAID                           | PAID       | 2      | 0     | 05   | deposited         | 1    | PAID |
      | challenge fail         | 4000000000003220 | challenge failed    | checkout       | 3-D Secure verification failed | INCOMPLETE | 6      | -2006 | none | deposited         | 0    | none |
      | challenge timeout      | 4000000000003220 | challenge left open | checkout       | The payment session timed out  | INCOMPLETE | 6      | -2007 | none | declinedByTimeout | 0    | none |
